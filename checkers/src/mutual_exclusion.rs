//! Mutual exclusion, checked directly on hold intervals: a lock is safe only if no two clients
//! ever believed they held it at once. A client surely holds the lock from the completion of
//! its acknowledged `acquire` until it invokes `release` (the grant happened before the ok, the
//! release takes effect after the invoke); a hold never released lasts until the end of the
//! history. Any two such intervals that overlap are a violation, reported with the processes,
//! the times and what the acquires returned (a lease id, a lock key).
//!
//! The mutex model's linearizability check decides the same property with indeterminate ops
//! taken into account; this one names the pair of holders, which is what a reader wants.

use std::collections::BTreeMap;

use history::{History, HistoryError, Outcome, Process, Validity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

/// The mutual-exclusion checker.
pub struct MutualExclusion;

/// What it found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MutualExclusionResult {
    /// Acknowledged acquires (holds).
    pub holds: usize,
    /// Holds never released before the history ended.
    pub unreleased: usize,
    /// Pairs of holds that overlap, earliest first (at most 100 are listed).
    pub overlaps: Vec<Overlap>,
    /// How many pairs overlap in all.
    pub overlap_count: usize,
}

/// One hold: who, from when to when, and what its acquire returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    /// The process that held the lock.
    pub process: u64,
    /// Its acquire's ok, ns since the start.
    pub from: u64,
    /// Its release's invoke, ns since the start (absent: never released).
    pub to: Option<u64>,
    /// What the acquire returned (e.g. the lease and lock key).
    pub acquired: Value,
    /// The acquire's history index.
    pub index: usize,
    /// The node the client talked to.
    pub node: Option<String>,
}

/// Two clients holding the lock at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// The earlier hold.
    pub first: Hold,
    /// The hold that began while the first was still held.
    pub second: Hold,
    /// How long both held it, ns.
    pub both_for: u64,
}

const LISTED: usize = 100;

impl Checker for MutualExclusion {
    fn name(&self) -> &'static str {
        "mutual-exclusion"
    }

    fn check(&self, history: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let end = history.ops.iter().map(|o| o.time).max().unwrap_or(0);
        let mut holds: Vec<Hold> = Vec::new();
        // Per process, the hold waiting for its release.
        let mut open: BTreeMap<u64, usize> = BTreeMap::new();
        for pair in history.pair()? {
            let invoke = &history.ops[pair.invoke];
            let Process::Client(process) = invoke.process else { continue };
            match invoke.f.as_str() {
                "acquire" | "lock" => {
                    let (Outcome::Ok, Some(c)) = (pair.outcome, pair.completion) else { continue };
                    let done = &history.ops[c];
                    open.insert(process, holds.len());
                    holds.push(Hold {
                        process,
                        from: done.time,
                        to: None,
                        acquired: done.value.clone(),
                        index: pair.invoke,
                        node: invoke.node.clone(),
                    });
                }
                "release" | "unlock" => {
                    if let Some(i) = open.remove(&process) {
                        holds[i].to = Some(invoke.time);
                    }
                }
                other => {
                    return Err(history.error_at(
                        pair.invoke,
                        Some("f"),
                        format!("the mutual-exclusion checker knows acquire and release, not `{other}`"),
                    ))
                }
            }
        }
        let mut result = MutualExclusionResult { holds: holds.len(), unreleased: open.len(), ..Default::default() };
        let mut order: Vec<&Hold> = holds.iter().collect();
        order.sort_by_key(|h| (h.from, h.index));
        // Sweep by start: each hold against the earlier ones still held when it began.
        let mut active: Vec<&Hold> = Vec::new();
        for hold in order {
            active.retain(|h| h.to.unwrap_or(end) > hold.from);
            for earlier in &active {
                result.overlap_count += 1;
                if result.overlaps.len() < LISTED {
                    let both_until = earlier.to.unwrap_or(end).min(hold.to.unwrap_or(end));
                    result.overlaps.push(Overlap {
                        first: (*earlier).clone(),
                        second: hold.clone(),
                        both_for: both_until.saturating_sub(hold.from),
                    });
                }
            }
            active.push(hold);
        }
        let valid = if result.overlap_count == 0 { Validity::Valid } else { Validity::Invalid };
        Ok(CheckResult { valid, detail: CheckDetail::MutualExclusion(result) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::import::{read_history, Format};

    fn check(lines: &[&str]) -> (Validity, MutualExclusionResult) {
        let text = lines.join("\n");
        let history = read_history("h.jsonl", &text, Format::Jsonl).unwrap();
        let r = MutualExclusion.check(&history, &CheckOptions::default()).unwrap();
        match r.detail {
            CheckDetail::MutualExclusion(m) => (r.valid, m),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn holds_one_after_another_are_valid() {
        let (valid, r) = check(&[
            r#"{"type":"invoke","process":0,"f":"acquire","value":null,"time":0}"#,
            r#"{"type":"invoke","process":1,"f":"acquire","value":null,"time":1}"#,
            r#"{"type":"ok","process":0,"f":"acquire","value":{"lease":"a"},"time":2}"#,
            r#"{"type":"invoke","process":0,"f":"release","value":null,"time":5}"#,
            r#"{"type":"ok","process":1,"f":"acquire","value":{"lease":"b"},"time":6}"#,
            r#"{"type":"ok","process":0,"f":"release","value":null,"time":7}"#,
            r#"{"type":"invoke","process":1,"f":"release","value":null,"time":8}"#,
            r#"{"type":"fail","process":1,"f":"release","value":null,"time":9}"#,
        ]);
        assert_eq!(valid, Validity::Valid);
        assert_eq!((r.holds, r.unreleased, r.overlap_count), (2, 0, 0));
    }

    #[test]
    fn two_holders_at_once_are_named() {
        let (valid, r) = check(&[
            r#"{"type":"invoke","process":0,"f":"acquire","value":null,"time":0}"#,
            r#"{"type":"ok","process":0,"f":"acquire","value":{"lease":"a"},"time":2}"#,
            r#"{"type":"invoke","process":1,"f":"acquire","value":null,"time":3}"#,
            r#"{"type":"ok","process":1,"f":"acquire","value":{"lease":"b"},"time":4}"#,
            r#"{"type":"invoke","process":0,"f":"release","value":null,"time":10}"#,
            r#"{"type":"info","process":0,"f":"release","value":null,"time":11}"#,
            r#"{"type":"invoke","process":2,"f":"acquire","value":null,"time":12}"#,
            r#"{"type":"info","process":2,"f":"acquire","value":null,"time":13}"#,
        ]);
        assert_eq!(valid, Validity::Invalid);
        assert_eq!((r.holds, r.unreleased, r.overlap_count), (2, 1, 1));
        let o = &r.overlaps[0];
        assert_eq!((o.first.process, o.second.process), (0, 1));
        assert_eq!(o.second.acquired, serde_json::json!({"lease": "b"}));
        assert_eq!(o.both_for, 6, "from 4 until process 0 invoked its release at 10");
    }

    #[test]
    fn an_acquire_that_failed_or_timed_out_holds_nothing() {
        let (valid, r) = check(&[
            r#"{"type":"invoke","process":0,"f":"acquire","value":null,"time":0}"#,
            r#"{"type":"ok","process":0,"f":"acquire","value":null,"time":1}"#,
            r#"{"type":"invoke","process":1,"f":"acquire","value":null,"time":2}"#,
            r#"{"type":"info","process":1,"f":"acquire","value":null,"time":3}"#,
            r#"{"type":"invoke","process":2,"f":"acquire","value":null,"time":4}"#,
            r#"{"type":"fail","process":2,"f":"acquire","value":null,"time":5}"#,
        ]);
        assert_eq!(valid, Validity::Valid);
        assert_eq!((r.holds, r.unreleased), (1, 1));
    }
}
