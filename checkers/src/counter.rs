//! The counter checker (Jepsen's `counter`): increments by positive amounts and reads. Every
//! read must lie between the sum of the increments acknowledged before it began (they surely
//! happened) and the sum of all increments invoked before it ended that did not fail (any of
//! them may have happened). A read outside is a lost or invented increment.

use std::collections::BTreeMap;

use history::{History, HistoryError, Key, OpType, Outcome, Validity};
use serde::{Deserialize, Serialize};

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

/// The counter checker.
pub struct CounterChecker;

/// What the counter checker found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CounterResult {
    /// Reads checked.
    pub reads: usize,
    /// Increments acknowledged, failed and indeterminate.
    pub adds: [usize; 3],
    /// Reads outside their bounds (at most 100 listed; `errors_total` counts them all).
    pub errors: Vec<CounterError>,
    /// How many reads were outside their bounds.
    pub errors_total: usize,
}

/// A read outside its bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterError {
    /// The key (`null` for one counter).
    pub key: Option<Key>,
    /// The read's invoke index in the history.
    pub index: u64,
    /// What it read.
    pub value: i64,
    /// The least it could have read.
    pub lower: i64,
    /// The most it could have read.
    pub upper: i64,
    /// When it completed, ns since the test began.
    pub time: u64,
}

const ERRORS_KEPT: usize = 100;

impl Checker for CounterChecker {
    fn name(&self) -> &'static str {
        "counter"
    }

    fn check(&self, history: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let pairs = history.pair()?;
        // Per op: (position of invoke, position of completion, outcome); walk the history once,
        // keeping per key the sum of acknowledged increments (at completion) and of increments
        // that may have happened (at invoke).
        let mut outcome_of_invoke: BTreeMap<usize, (Outcome, Option<usize>)> = BTreeMap::new();
        let mut invoke_of: BTreeMap<usize, usize> = BTreeMap::new();
        for p in &pairs {
            outcome_of_invoke.insert(p.invoke, (p.outcome, p.completion));
            if let Some(c) = p.completion {
                invoke_of.insert(c, p.invoke);
            }
        }
        let mut lower_at: BTreeMap<Option<Key>, i64> = BTreeMap::new();
        let mut upper_at: BTreeMap<Option<Key>, i64> = BTreeMap::new();
        // Reads in flight: invoke position → lower bound when it began.
        let mut reads_lower: BTreeMap<usize, i64> = BTreeMap::new();
        let mut result = CounterResult::default();
        for (i, op) in history.ops.iter().enumerate() {
            if !op.is_client() {
                continue;
            }
            let amount = |v: &serde_json::Value| -> Result<i64, HistoryError> {
                match v {
                    serde_json::Value::Null => Ok(1),
                    v => v
                        .as_i64()
                        .filter(|n| *n >= 0)
                        .ok_or_else(|| history.error_at(i, Some("value"), format!("an increment is a non-negative integer, found {v}"))),
                }
            };
            match (op.f.as_str(), op.kind) {
                ("add", OpType::Invoke) => {
                    let (outcome, _) = outcome_of_invoke.get(&i).copied().unwrap_or((Outcome::Info, None));
                    result.adds[match outcome {
                        Outcome::Ok => 0,
                        Outcome::Fail => 1,
                        Outcome::Info => 2,
                    }] += 1;
                    if outcome != Outcome::Fail {
                        *upper_at.entry(op.key.clone()).or_default() += amount(&op.value)?;
                    }
                }
                ("add", OpType::Ok) => *lower_at.entry(op.key.clone()).or_default() += amount(&op.value)?,
                ("add", _) => {}
                ("read", OpType::Invoke) => {
                    reads_lower.insert(i, lower_at.get(&op.key).copied().unwrap_or(0));
                }
                ("read", OpType::Ok) => {
                    let Some(&invoke) = invoke_of.get(&i) else { continue };
                    let lower = reads_lower.remove(&invoke).unwrap_or(0);
                    let upper = upper_at.get(&op.key).copied().unwrap_or(0);
                    let value = match &op.value {
                        serde_json::Value::Null => 0,
                        v => v
                            .as_i64()
                            .ok_or_else(|| history.error_at(i, Some("value"), format!("a counter read is an integer, found {v}")))?,
                    };
                    result.reads += 1;
                    if value < lower || value > upper {
                        result.errors_total += 1;
                        if result.errors.len() < ERRORS_KEPT {
                            let index = history.ops[invoke].index;
                            result.errors.push(CounterError { key: op.key.clone(), index, value, lower, upper, time: op.time });
                        }
                    }
                }
                ("read", _) => {}
                (other, _) => return Err(history.error_at(i, Some("f"), format!("the counter checker knows add and read, not `{other}`"))),
            }
        }
        let valid = if result.errors_total > 0 { Validity::Invalid } else { Validity::Valid };
        Ok(CheckResult { valid, detail: CheckDetail::Counter(result) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::{Op, Process};
    use serde_json::{json, Value};
    use OpType::*;

    fn check(rows: &[(u64, OpType, &str, Value)]) -> CounterResult {
        let ops = rows
            .iter()
            .enumerate()
            .map(|(t, (p, kind, f, value))| Op {
                index: 0,
                kind: *kind,
                process: Process::Client(*p),
                f: f.to_string(),
                key: None,
                value: value.clone(),
                time: t as u64,
                node: None,
                error: None,
            })
            .collect();
        let r = CounterChecker.check(&History::from_ops("h", ops), &CheckOptions::default()).unwrap();
        let CheckDetail::Counter(c) = r.detail else { panic!() };
        assert_eq!(r.valid, if c.errors_total > 0 { Validity::Invalid } else { Validity::Valid });
        c
    }

    /// A read concurrent with an add of 3 after an acknowledged add of 2: anything in 2..=5.
    fn around(read: i64) -> CounterResult {
        check(&[
            (0, Invoke, "add", json!(2)),
            (0, Ok, "add", json!(2)),
            (1, Invoke, "add", json!(3)),
            (2, Invoke, "read", Value::Null),
            (2, Ok, "read", json!(read)),
            (1, Info, "add", json!(3)),
        ])
    }

    #[test]
    fn reads_on_and_inside_the_bounds_are_valid() {
        for read in [2, 4, 5] {
            assert_eq!(around(read).errors_total, 0, "{read}");
        }
    }

    #[test]
    fn reads_too_low_or_too_high_are_named_with_their_bounds() {
        let low = around(1);
        assert_eq!(low.errors_total, 1);
        assert_eq!((low.errors[0].value, low.errors[0].lower, low.errors[0].upper), (1, 2, 5));
        let high = around(6);
        assert_eq!((high.errors[0].value, high.errors[0].lower, high.errors[0].upper), (6, 2, 5));
    }

    #[test]
    fn failed_adds_count_for_neither_bound() {
        let c =
            check(&[(0, Invoke, "add", json!(4)), (0, Fail, "add", json!(4)), (1, Invoke, "read", Value::Null), (1, Ok, "read", json!(4))]);
        assert_eq!(c.errors_total, 1, "a failed add did not happen");
        assert_eq!(c.adds, [0, 1, 0]);
    }
}
