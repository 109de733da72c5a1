//! The bank checker (Jepsen's `bank`): money moves between accounts by transfers, each a
//! transaction over two accounts, and is never created or destroyed. Every acknowledged read of
//! all the accounts must therefore sum to the known total, and no balance may be negative. A
//! read that breaks either saw a transaction half-applied (or a lost or duplicated one); each is
//! listed with its balances and how far off its sum is.

use history::{History, HistoryError, Outcome, Validity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

/// The bank checker, for `accounts` accounts holding `total` in all.
pub struct BankChecker {
    /// How many accounts.
    pub accounts: usize,
    /// What they hold in all.
    pub total: i64,
}

/// What it found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BankResult {
    /// The total every read must sum to.
    pub total: i64,
    /// Acknowledged reads checked.
    pub reads: usize,
    /// Transfers acknowledged / failed / indeterminate.
    pub transfers: [usize; 3],
    /// Reads whose sum is not the total, or with a negative balance (at most 100 listed).
    pub bad_reads: Vec<BadRead>,
    /// How many reads were bad in all.
    pub bad_count: usize,
    /// The largest distance of a read's sum from the total.
    pub worst_off_by: i64,
}

/// A read that breaks the invariant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadRead {
    /// Its completion's history index.
    pub index: usize,
    /// When it completed, ns since the start.
    pub time: u64,
    /// The balances it read.
    pub balances: Vec<i64>,
    /// Their sum.
    pub sum: i64,
    /// The sum minus the total (0: only a negative balance is wrong).
    pub off_by: i64,
    /// The node the client read from.
    pub node: Option<String>,
}

const LISTED: usize = 100;

impl Checker for BankChecker {
    fn name(&self) -> &'static str {
        "bank"
    }

    fn check(&self, history: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let mut r = BankResult { total: self.total, ..Default::default() };
        for pair in history.pair()? {
            let invoke = &history.ops[pair.invoke];
            match invoke.f.as_str() {
                "transfer" => {
                    let slot = match pair.outcome {
                        Outcome::Ok => 0,
                        Outcome::Fail => 1,
                        Outcome::Info => 2,
                    };
                    r.transfers[slot] += 1;
                }
                "read" => {
                    let (Outcome::Ok, Some(c)) = (pair.outcome, pair.completion) else { continue };
                    let done = &history.ops[c];
                    let balances = match &done.value {
                        Value::Array(items) if items.len() == self.accounts => {
                            items.iter().map(Value::as_i64).collect::<Option<Vec<i64>>>()
                        }
                        _ => None,
                    };
                    let Some(balances) = balances else {
                        return Err(history.error_at(
                            c,
                            Some("value"),
                            format!("a bank read returns the {} balances as a list of integers", self.accounts),
                        ));
                    };
                    r.reads += 1;
                    let sum: i64 = balances.iter().sum();
                    if sum != self.total || balances.iter().any(|b| *b < 0) {
                        r.bad_count += 1;
                        r.worst_off_by = r.worst_off_by.max((sum - self.total).abs());
                        if r.bad_reads.len() < LISTED {
                            r.bad_reads.push(BadRead {
                                index: c,
                                time: done.time,
                                balances,
                                sum,
                                off_by: sum - self.total,
                                node: invoke.node.clone(),
                            });
                        }
                    }
                }
                other => {
                    return Err(history.error_at(
                        pair.invoke,
                        Some("f"),
                        format!("the bank checker knows transfer and read, not `{other}`"),
                    ))
                }
            }
        }
        r.bad_reads.sort_by_key(|b| b.index);
        let valid = if r.bad_count > 0 {
            Validity::Invalid
        } else if r.reads == 0 {
            Validity::Unknown
        } else {
            Validity::Valid
        };
        Ok(CheckResult { valid, detail: CheckDetail::Bank(r) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::import::{read_history, Format};

    fn check(lines: &[&str]) -> (Validity, BankResult) {
        let history = read_history("h.jsonl", &lines.join("\n"), Format::Jsonl).unwrap();
        let r = BankChecker { accounts: 3, total: 30 }.check(&history, &CheckOptions::default()).unwrap();
        match r.detail {
            CheckDetail::Bank(b) => (r.valid, b),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_that_sum_to_the_total_are_valid() {
        let (valid, r) = check(&[
            r#"{"type":"invoke","process":0,"f":"transfer","value":{"from":0,"to":1,"amount":5},"time":1}"#,
            r#"{"type":"invoke","process":1,"f":"read","value":null,"time":2}"#,
            r#"{"type":"ok","process":0,"f":"transfer","value":{"from":0,"to":1,"amount":5},"time":3}"#,
            r#"{"type":"ok","process":1,"f":"read","value":[5,15,10],"time":4}"#,
            r#"{"type":"invoke","process":0,"f":"transfer","value":{"from":2,"to":1,"amount":50},"time":5}"#,
            r#"{"type":"fail","process":0,"f":"transfer","value":{"from":2,"to":1,"amount":50},"time":6}"#,
        ]);
        assert_eq!(valid, Validity::Valid);
        assert_eq!((r.reads, r.transfers, r.bad_count), (1, [1, 1, 0], 0));
    }

    #[test]
    fn a_half_applied_transfer_and_a_negative_balance_are_named() {
        let (valid, r) = check(&[
            r#"{"type":"invoke","process":1,"f":"read","value":null,"time":2}"#,
            r#"{"type":"ok","process":1,"f":"read","value":[5,10,10],"time":4}"#,
            r#"{"type":"invoke","process":1,"f":"read","value":null,"time":5}"#,
            r#"{"type":"ok","process":1,"f":"read","value":[-5,25,10],"time":6}"#,
        ]);
        assert_eq!(valid, Validity::Invalid);
        assert_eq!(r.bad_count, 2);
        assert_eq!((r.bad_reads[0].sum, r.bad_reads[0].off_by, r.bad_reads[0].index), (25, -5, 1));
        assert_eq!(r.bad_reads[1].off_by, 0, "the sum is right, a balance is negative");
        assert_eq!(r.worst_off_by, 5);
    }

    #[test]
    fn a_read_of_the_wrong_shape_is_an_error_naming_the_line() {
        let history = read_history("h.jsonl", "{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":[1,2]}", Format::Jsonl).unwrap();
        let e = BankChecker { accounts: 3, total: 30 }.check(&history, &CheckOptions::default()).unwrap_err().to_string();
        assert!(e.contains("h.jsonl:2") && e.contains("value"), "{e}");
    }

    #[test]
    fn no_read_is_unknown() {
        let (valid, _) = check(&[r#"{"type":"invoke","process":0,"f":"transfer","value":{"from":0,"to":1,"amount":5},"time":1}"#]);
        assert_eq!(valid, Validity::Unknown);
    }
}
