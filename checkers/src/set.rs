//! The set checker (Jepsen's `set`): unique elements are added, and after the faults are healed
//! the whole set is read once. Every element the system acknowledged must be in that final read.
//!
//! Per element: acknowledged (`ok` add), failed (`fail`: definitely not added) or indeterminate
//! (`info`, or never completed), against present or absent in the final read:
//! - **lost**: acknowledged, absent — the system lost a write it confirmed (invalid);
//! - **unexpected**: present but never attempted (invalid);
//! - **duplicated**: present more than once (invalid);
//! - **recovered**: indeterminate, present (it did happen; fine);
//! - a failed add that is present is **unexpected** too: it was reported as not done.
//!
//! The last `ok` read of each key is the final read; with none the verdict is `unknown`. Each
//! lost element carries when it was acknowledged and the fault window it fell in, if any.

use std::collections::{BTreeMap, BTreeSet};

use history::faults::{self, Window};
use history::{History, HistoryError, Key, Outcome, Validity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

/// The set checker.
pub struct SetChecker;

/// What the set checker found, per key of the history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetResult {
    /// One entry per key (a history without keys has one, with key `null`).
    pub keys: Vec<SetKeyResult>,
}

/// One key's set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetKeyResult {
    /// The key.
    pub key: Option<Key>,
    /// valid / invalid / unknown (no final read).
    pub valid: Validity,
    /// Adds attempted.
    pub attempted: usize,
    /// Adds acknowledged (`ok`).
    pub acknowledged: usize,
    /// Adds that failed (definitely not done).
    pub failed: usize,
    /// Adds whose outcome is unknown.
    pub indeterminate: usize,
    /// Elements in the final read.
    pub read: usize,
    /// When the final read completed, ns since the start (absent: no final read).
    pub read_time: Option<u64>,
    /// Acknowledged, absent from the final read.
    pub lost: Vec<LostElement>,
    /// In the final read but never attempted (or reported failed).
    pub unexpected: Vec<Value>,
    /// In the final read more than once.
    pub duplicated: Vec<Value>,
    /// Indeterminate adds that the final read shows happened.
    pub recovered: Vec<Value>,
    /// Every acknowledged add, for drawing: the element and when it was acknowledged.
    pub acknowledged_at: Vec<(Value, u64)>,
}

/// An acknowledged element that the final read does not have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostElement {
    /// The element.
    pub element: Value,
    /// When the add was acknowledged, ns since the test began.
    pub acknowledged: u64,
    /// The node the client talked to.
    pub node: Option<String>,
    /// The fault that was active when it was acknowledged, and when that fault began.
    pub during: Option<(String, u64)>,
}

impl Checker for SetChecker {
    fn name(&self) -> &'static str {
        "set"
    }

    fn check(&self, history: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let windows = faults::windows(history);
        let mut per_key: BTreeMap<Option<Key>, Accumulator> = BTreeMap::new();
        for pair in history.pair()? {
            let invoke = &history.ops[pair.invoke];
            let completion = pair.completion.map(|c| &history.ops[c]);
            let acc = per_key.entry(invoke.key.clone()).or_default();
            match invoke.f.as_str() {
                "add" => acc.add(invoke, completion, pair.outcome),
                "read" if pair.outcome == Outcome::Ok => {
                    let Some(c) = completion else { continue };
                    let Value::Array(items) = &c.value else {
                        return Err(history.error_at(pair.completion.unwrap_or(pair.invoke), Some("value"), "a set read returns a list"));
                    };
                    // The last completed read is the final one.
                    if acc.read.as_ref().is_none_or(|(t, _)| c.time >= *t) {
                        acc.read = Some((c.time, items.clone()));
                    }
                }
                "read" => {}
                other => {
                    return Err(history.error_at(pair.invoke, Some("f"), format!("the set checker knows add and read, not `{other}`")))
                }
            }
        }
        let keys: Vec<SetKeyResult> = per_key.into_iter().map(|(key, acc)| acc.result(key, &windows)).collect();
        let valid = Validity::merge(keys.iter().map(|k| k.valid));
        Ok(CheckResult { valid, detail: CheckDetail::Set(SetResult { keys }) })
    }
}

/// One key's adds and final read, as the history is read.
#[derive(Default)]
struct Accumulator {
    /// Element (as JSON text) → how its add ended, when, through which node.
    adds: BTreeMap<String, (Value, Outcome, u64, Option<String>)>,
    read: Option<(u64, Vec<Value>)>,
}

impl Accumulator {
    fn add(&mut self, invoke: &history::Op, completion: Option<&history::Op>, outcome: Outcome) {
        let time = completion.map_or(invoke.time, |c| c.time);
        let entry = (invoke.value.clone(), outcome, time, invoke.node.clone());
        // An element added twice keeps its best outcome (ok over info over fail).
        let rank = |o: Outcome| match o {
            Outcome::Ok => 2,
            Outcome::Info => 1,
            Outcome::Fail => 0,
        };
        let slot = self.adds.entry(invoke.value.to_string()).or_insert(entry.clone());
        if rank(entry.1) > rank(slot.1) {
            *slot = entry;
        }
    }

    fn result(self, key: Option<Key>, windows: &[Window]) -> SetKeyResult {
        let mut r = SetKeyResult {
            key,
            valid: Validity::Unknown,
            attempted: 0,
            acknowledged: 0,
            failed: 0,
            indeterminate: 0,
            read: 0,
            read_time: None,
            lost: Vec::new(),
            unexpected: Vec::new(),
            duplicated: Vec::new(),
            recovered: Vec::new(),
            acknowledged_at: Vec::new(),
        };
        for (value, outcome, time, _) in self.adds.values() {
            r.attempted += 1;
            match outcome {
                Outcome::Ok => {
                    r.acknowledged += 1;
                    r.acknowledged_at.push((value.clone(), *time));
                }
                Outcome::Fail => r.failed += 1,
                Outcome::Info => r.indeterminate += 1,
            }
        }
        let Some((read_time, items)) = self.read else {
            r.valid = Validity::Unknown;
            return r;
        };
        r.read = items.len();
        r.read_time = Some(read_time);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for item in &items {
            *seen.entry(item.to_string()).or_default() += 1;
        }
        for item in &items {
            let text = item.to_string();
            if seen.get(&text).copied().unwrap_or(0) > 1 && !r.duplicated.contains(item) {
                r.duplicated.push(item.clone());
            }
            match self.adds.get(&text) {
                None | Some((_, Outcome::Fail, _, _)) if !r.unexpected.contains(item) => r.unexpected.push(item.clone()),
                Some((_, Outcome::Info, _, _)) if !r.recovered.contains(item) => r.recovered.push(item.clone()),
                _ => {}
            }
        }
        let present: BTreeSet<&String> = seen.keys().collect();
        for (text, (value, outcome, time, node)) in &self.adds {
            if *outcome == Outcome::Ok && !present.contains(text) {
                let during = windows.iter().find(|w| w.start <= *time && *time < w.end).map(|w| (w.fault.clone(), w.start));
                r.lost.push(LostElement { element: value.clone(), acknowledged: *time, node: node.clone(), during });
            }
        }
        r.lost.sort_by_key(|l| l.acknowledged);
        r.valid = if r.lost.is_empty() && r.unexpected.is_empty() && r.duplicated.is_empty() { Validity::Valid } else { Validity::Invalid };
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::{Op, OpType, Process};
    use serde_json::json;

    /// `(process, type, f, value, time)` rows, as the history.
    fn history(rows: &[(u64, OpType, &str, Value, u64)]) -> History {
        let ops = rows
            .iter()
            .map(|(p, kind, f, value, time)| Op {
                index: 0,
                kind: *kind,
                process: Process::Client(*p),
                f: f.to_string(),
                key: None,
                value: value.clone(),
                time: *time,
                node: Some("n1".into()),
                error: None,
            })
            .collect();
        History::from_ops("h", ops)
    }

    fn check(rows: &[(u64, OpType, &str, Value, u64)]) -> (Validity, SetKeyResult) {
        let r = SetChecker.check(&history(rows), &CheckOptions::default()).unwrap();
        let CheckDetail::Set(set) = r.detail else { panic!() };
        (r.valid, set.keys.into_iter().next().unwrap())
    }

    use OpType::*;

    #[test]
    fn every_acknowledged_element_read_back_is_valid() {
        let (v, r) = check(&[
            (0, Invoke, "add", json!(1), 1),
            (0, Ok, "add", json!(1), 2),
            (1, Invoke, "add", json!(2), 3),
            (1, Info, "add", json!(2), 4),
            (2, Invoke, "add", json!(3), 5),
            (2, Fail, "add", json!(3), 6),
            (0, Invoke, "read", Value::Null, 7),
            (0, Ok, "read", json!([1]), 8),
        ]);
        assert_eq!(v, Validity::Valid);
        assert_eq!((r.attempted, r.acknowledged, r.failed, r.indeterminate, r.read), (3, 1, 1, 1, 1));
        assert!(r.lost.is_empty() && r.recovered.is_empty());
    }

    #[test]
    fn a_lost_element_is_invalid_and_named_with_its_fault() {
        let mut h = history(&[
            (0, Invoke, "add", json!(1), 10),
            (0, Ok, "add", json!(1), 20),
            (1, Invoke, "add", json!(2), 30),
            (1, Ok, "add", json!(2), 40),
            (0, Invoke, "read", Value::Null, 90),
            (0, Ok, "read", json!([2]), 100),
        ]);
        let mut start = faults::op(faults::Event::Start("partition"), Value::Null);
        start.time = 15;
        let mut stop = faults::op(faults::Event::Stop("partition"), Value::Null);
        stop.time = 50;
        h.ops.insert(1, start);
        h.ops.insert(6, stop);
        let r = SetChecker.check(&h, &CheckOptions::default()).unwrap();
        assert_eq!(r.valid, Validity::Invalid);
        let CheckDetail::Set(set) = r.detail else { panic!() };
        let lost = &set.keys[0].lost;
        assert_eq!(lost.len(), 1);
        assert_eq!((lost[0].element.clone(), lost[0].acknowledged), (json!(1), 20));
        assert_eq!(lost[0].during, Some(("partition".to_string(), 15)));
    }

    #[test]
    fn unexpected_duplicated_and_recovered() {
        let (v, r) = check(&[
            (0, Invoke, "add", json!(1), 1),
            (0, Info, "add", json!(1), 2),
            (1, Invoke, "add", json!(2), 3),
            (1, Fail, "add", json!(2), 4),
            (2, Invoke, "read", Value::Null, 5),
            (2, Ok, "read", json!([1, 2, 9, 9]), 6),
        ]);
        assert_eq!(v, Validity::Invalid);
        assert_eq!(r.recovered, vec![json!(1)], "indeterminate and present: it happened");
        assert_eq!(r.unexpected, vec![json!(2), json!(9)], "a failed add that is present, and one never attempted");
        assert_eq!(r.duplicated, vec![json!(9)]);
    }

    #[test]
    fn without_a_final_read_the_verdict_is_unknown() {
        let (v, r) = check(&[
            (0, Invoke, "add", json!(1), 1),
            (0, Ok, "add", json!(1), 2),
            (1, Invoke, "read", Value::Null, 3),
            (1, Fail, "read", Value::Null, 4),
        ]);
        assert_eq!(v, Validity::Unknown);
        assert_eq!(r.read_time, None);
    }

    #[test]
    fn the_last_read_is_the_final_one() {
        let (v, _) = check(&[
            (0, Invoke, "add", json!(1), 1),
            (1, Invoke, "read", Value::Null, 2),
            (1, Ok, "read", json!([]), 3),
            (0, Ok, "add", json!(1), 4),
            (1, Invoke, "read", Value::Null, 5),
            (1, Ok, "read", json!([1]), 6),
        ]);
        assert_eq!(v, Validity::Valid, "an early read without the element does not make it lost");
    }
}
