//! The list-append workload (Elle's): transactions of 1–4 micro-ops, each an append of a
//! unique value to a key's list or a read of a whole list, over a small group of keys that is
//! replaced by a fresh one after [`APPENDS_PER_GROUP`] appends (so lists stay short and every
//! key sees contention). Checked for transactional anomalies, strict serializability by
//! default (`faultline check --checker elle --consistency-model …` re-checks a history against
//! another model).
//!
//! An op is `f` = `txn` with value `[["append", k, v], ["r", k, null]]`; its `ok` completion
//! carries the reads' lists. Every key of a transaction is in the same group,
//! [`group_of`] tells which: a target may keep a group as one table.

use checkers::elle::{ConsistencyModel, ListAppend as ListAppendChecker};
use checkers::Checker;
use history::{Key, Rng};
use serde_json::{json, Value};

use crate::client::Invocation;
use crate::generator::{BoxGen, Context, Next};
use crate::workload::Workload;

/// Keys in a group.
pub const GROUP_KEYS: i64 = 4;
/// Appends to a group before the next group takes over.
pub const APPENDS_PER_GROUP: u64 = 64;

/// The group a key belongs to (keys `g * GROUP_KEYS ..` are group `g`).
pub fn group_of(key: i64) -> i64 {
    key.div_euclid(GROUP_KEYS)
}

/// List-append transactions.
pub struct ListAppend;

impl Workload for ListAppend {
    fn name(&self) -> &'static str {
        "list-append"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["txn"]
    }

    fn generator(&self) -> BoxGen {
        let mut group = 0i64;
        let mut appends = 0u64;
        let mut next_value = std::collections::HashMap::<i64, i64>::new();
        Box::new(move |_: &Context, rng: &mut Rng| {
            let mut mops = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let key = group * GROUP_KEYS + rng.below(GROUP_KEYS as u64) as i64;
                if rng.below(2) == 0 {
                    let v = next_value.entry(key).or_insert(0);
                    *v += 1;
                    mops.push(json!(["append", key, *v]));
                    appends += 1;
                } else {
                    mops.push(json!(["r", key, null]));
                }
            }
            if appends >= APPENDS_PER_GROUP {
                group += 1;
                appends = 0;
            }
            Next::Op(Invocation { f: "txn".into(), key: None, value: Value::Array(mops) })
        })
    }

    /// None: Elle needs no final reads (an append never read adds no edge, and says nothing
    /// wrong).
    fn final_generator(&self, _keys: &[Key]) -> Option<BoxGen> {
        None
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(ListAppendChecker { model: ConsistencyModel::StrictSerializable }), Box::new(checkers::stats::Stats)]
    }
}

/// A transaction's micro-ops as (is append, key, value): what a client executes.
pub fn micro_ops(value: &Value) -> Option<Vec<(bool, i64, i64)>> {
    value
        .as_array()?
        .iter()
        .map(|m| {
            let key = m.get(1)?.as_i64()?;
            match m.get(0)?.as_str()? {
                "append" => Some((true, key, m.get(2)?.as_i64()?)),
                "r" => Some((false, key, 0)),
                _ => None,
            }
        })
        .collect()
}

/// The completed transaction: the micro-ops with each read's list (`reads[i]` for micro-op
/// `i`; appends keep their value).
pub fn completed(mops: &[(bool, i64, i64)], reads: &[Vec<i64>]) -> Value {
    Value::Array(
        mops.iter()
            .enumerate()
            .map(
                |(i, (append, k, v))| {
                    if *append {
                        json!(["append", k, v])
                    } else {
                        json!(["r", k, reads.get(i).cloned().unwrap_or_default()])
                    }
                },
            )
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_stay_in_one_group_and_values_are_unique_per_key() {
        let mut gen = ListAppend.generator();
        let mut rng = Rng::new(5);
        let ctx = Context { elapsed: std::time::Duration::ZERO, worker: 0 };
        let mut seen = std::collections::HashSet::new();
        let mut groups = std::collections::HashSet::new();
        for _ in 0..2000 {
            let Next::Op(op) = gen.next(&ctx, &mut rng) else { panic!() };
            let mops = micro_ops(&op.value).expect("micro-ops");
            assert!((1..=4).contains(&mops.len()));
            let g: std::collections::HashSet<i64> = mops.iter().map(|(_, k, _)| group_of(*k)).collect();
            assert_eq!(g.len(), 1, "{}", op.value);
            groups.extend(g);
            for (append, k, v) in mops {
                if append {
                    assert!(seen.insert((k, v)), "{k} {v} twice");
                }
            }
        }
        assert!(groups.len() > 20, "groups rotate: {}", groups.len());
    }
}
