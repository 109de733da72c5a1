//! Reading a list-append history: each client op is a transaction (`f` = `txn`) whose value is
//! a list of micro-ops `["append", k, v]` and `["r", k, list-or-null]` (Jepsen's format); an
//! `ok` completion carries the reads' lists. Keys are integers or strings, values integers,
//! and every value is appended to its key at most once (that is what lets a read's list name
//! the transactions it saw).

use history::{History, HistoryError, Key, Outcome};
use rustc_hash::FxHashMap;
use serde_json::Value;

/// One micro-op, with its key interned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mop {
    /// Appends `value` to the list at `key`.
    Append { key: u32, value: i64 },
    /// Reads the list at `key`; `None` when the read's result is not known (the transaction
    /// did not complete `ok`).
    Read { key: u32, list: Option<Vec<i64>> },
}

/// One transaction.
#[derive(Clone, Debug)]
pub(crate) struct Txn {
    /// History index of its invoke.
    pub invoke: usize,
    /// History index of its completion, if it completed.
    pub completion: Option<usize>,
    pub outcome: Outcome,
    pub process: u64,
    pub mops: Vec<Mop>,
    /// Invoke and completion `time` (ns); an op that is not `ok` never ends in real time.
    pub start: u64,
    pub end: Option<u64>,
}

/// The transactions of a history, and its keys.
pub(crate) struct Txns {
    pub txns: Vec<Txn>,
    pub keys: Vec<Key>,
    /// (key, value) → the transaction that appended it.
    pub writer: FxHashMap<(u32, i64), u32>,
}

impl Txns {
    /// About what they take in memory.
    pub fn bytes(&self) -> usize {
        let mops: usize = self
            .txns
            .iter()
            .map(|t| {
                t.mops
                    .iter()
                    .map(|m| match m {
                        Mop::Read { list: Some(l), .. } => 32 + 8 * l.len(),
                        _ => 32,
                    })
                    .sum::<usize>()
            })
            .sum();
        self.txns.len() * std::mem::size_of::<Txn>() + mops + self.writer.len() * 24
    }
}

/// The f of a transaction.
pub const TXN: &str = "txn";

pub(crate) fn read(history: &History) -> Result<Txns, HistoryError> {
    let mut keys: Vec<Key> = Vec::new();
    let mut key_ids: FxHashMap<Key, u32> = FxHashMap::default();
    let mut txns = Vec::new();
    let mut writer: FxHashMap<(u32, i64), u32> = FxHashMap::default();
    for pair in history.pair()? {
        let invoke = &history.ops[pair.invoke];
        if invoke.f != TXN {
            return Err(history.error_at(
                pair.invoke,
                Some("f"),
                format!("a list-append history has only `txn` ops, not `{}` (Elle's format: f = txn, value = [[\"append\", k, v], [\"r\", k, list]])", invoke.f),
            ));
        }
        let Some(process) = (match invoke.process {
            history::Process::Client(p) => Some(p),
            history::Process::Nemesis => None,
        }) else {
            continue;
        };
        // An ok completion carries the reads' results; anything else only the invoke's intent.
        let (at, value) = match (pair.outcome, pair.completion) {
            (Outcome::Ok, Some(c)) => (c, &history.ops[c].value),
            _ => (pair.invoke, &invoke.value),
        };
        let mops = parse_mops(history, at, value, pair.outcome == Outcome::Ok, &mut keys, &mut key_ids)?;
        if let (Outcome::Ok, Some(c)) = (pair.outcome, pair.completion) {
            // The completion must be the invoke's transaction, with the reads filled in.
            let intent = parse_mops(history, pair.invoke, &invoke.value, false, &mut keys, &mut key_ids)?;
            let same = intent.len() == mops.len()
                && intent.iter().zip(&mops).all(|(a, b)| match (a, b) {
                    (Mop::Append { key: k1, value: v1 }, Mop::Append { key: k2, value: v2 }) => k1 == k2 && v1 == v2,
                    (Mop::Read { key: k1, .. }, Mop::Read { key: k2, .. }) => k1 == k2,
                    _ => false,
                });
            if !same {
                return Err(history.error_at(
                    c,
                    Some("value"),
                    format!("the completion's micro-ops differ from its invoke's at {}", history.location(pair.invoke)),
                ));
            }
        }
        let id = txns.len() as u32;
        if pair.outcome != Outcome::Fail {
            for m in &mops {
                if let Mop::Append { key, value } = m {
                    if let Some(earlier) = writer.insert((*key, *value), id) {
                        let first: &Txn = &txns[earlier as usize];
                        return Err(history.error_at(
                            pair.invoke,
                            Some("value"),
                            format!(
                                "{value} is appended to key {} again (first at {}): list-append needs every value appended to a key once",
                                keys[*key as usize],
                                history.location(first.invoke)
                            ),
                        ));
                    }
                }
            }
        }
        txns.push(Txn {
            invoke: pair.invoke,
            completion: pair.completion,
            outcome: pair.outcome,
            process,
            mops,
            start: invoke.time,
            end: match (pair.outcome, pair.completion) {
                (Outcome::Ok, Some(c)) => Some(history.ops[c].time),
                _ => None,
            },
        });
    }
    // Appends of failed transactions are kept apart: reading one is an aborted read (G1a).
    for (id, t) in txns.iter().enumerate() {
        if t.outcome == Outcome::Fail {
            for m in &t.mops {
                if let Mop::Append { key, value } = m {
                    writer.entry((*key, *value)).or_insert(id as u32);
                }
            }
        }
    }
    Ok(Txns { txns, keys, writer })
}

fn parse_mops(
    history: &History,
    at: usize,
    value: &Value,
    with_results: bool,
    keys: &mut Vec<Key>,
    key_ids: &mut FxHashMap<Key, u32>,
) -> Result<Vec<Mop>, HistoryError> {
    let bad = |what: String| history.error_at(at, Some("value"), what);
    let Value::Array(items) = value else {
        return Err(bad(format!(
            "a transaction's value is a list of micro-ops such as [\"append\", 1, 5] or [\"r\", 1, null], not {value}"
        )));
    };
    let mut mops = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let parts = match item {
            Value::Array(p) if p.len() == 3 => p,
            other => return Err(bad(format!("micro-op {i} is not a triple [f, key, value]: {other}"))),
        };
        let key: Key = match &parts[1] {
            Value::Number(n) if n.is_i64() => Key::Int(n.as_i64().unwrap_or_default()),
            Value::String(s) => Key::Str(s.clone()),
            other => return Err(bad(format!("micro-op {i}: the key is an integer or a string, not {other}"))),
        };
        let key = *key_ids.entry(key.clone()).or_insert_with(|| {
            keys.push(key);
            (keys.len() - 1) as u32
        });
        match parts[0].as_str() {
            Some("append") => {
                let Some(v) = parts[2].as_i64() else {
                    return Err(bad(format!("micro-op {i}: an append's value is an integer, not {}", parts[2])));
                };
                mops.push(Mop::Append { key, value: v });
            }
            Some("r") => {
                let list = match (&parts[2], with_results) {
                    (_, false) => None,
                    (Value::Array(l), true) => Some(
                        l.iter()
                            .map(Value::as_i64)
                            .collect::<Option<Vec<i64>>>()
                            .ok_or_else(|| bad(format!("micro-op {i}: a read's list holds integers, not {}", parts[2])))?,
                    ),
                    // An ok read of nil: the key was never written (Jepsen's clients say nil).
                    (Value::Null, true) => Some(Vec::new()),
                    (other, true) => return Err(bad(format!("micro-op {i}: an ok read returns a list (or null), not {other}"))),
                };
                mops.push(Mop::Read { key, list });
            }
            _ => return Err(bad(format!("micro-op {i}: f is \"append\" or \"r\", not {}", parts[0]))),
        }
    }
    Ok(mops)
}
