//! A set: `add x`, and `read`, which returns the whole set (a list; order and repeats ignored).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::model::{result_value, Model, ModelError, Scalar};
use history::Op;

/// A set, initially empty.
#[derive(Clone, Debug, Default)]
pub struct Set;

/// A set op. A read's value is `None` when unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// Add an element.
    Add(Scalar),
    /// Read the whole set.
    Read(Option<BTreeSet<Scalar>>),
}

impl Model for Set {
    type Op = SetOp;
    type State = BTreeSet<Scalar>;

    fn init(&self) -> BTreeSet<Scalar> {
        BTreeSet::new()
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<SetOp, ModelError> {
        match invoke.f.as_str() {
            "add" => Ok(SetOp::Add(Scalar::from_json(&invoke.value, "value", "an add's element")?)),
            "read" => match result_value(completion) {
                None => Ok(SetOp::Read(None)),
                Some(Value::Array(items)) => Ok(SetOp::Read(Some(
                    items.iter().map(|i| Scalar::from_json(i, "value", "a read's element")).collect::<Result<_, _>>()?,
                ))),
                Some(Value::Null) => Ok(SetOp::Read(Some(BTreeSet::new()))),
                Some(other) => Err(ModelError::new("value", format!("a set read returns a list, found {other}"))),
            },
            f => Err(ModelError::unknown_f("set", f, &["add", "read"])),
        }
    }

    fn step(&self, set: &BTreeSet<Scalar>, op: &SetOp) -> Option<BTreeSet<Scalar>> {
        match op {
            SetOp::Add(x) => {
                let mut next = set.clone();
                next.insert(x.clone());
                Some(next)
            }
            SetOp::Read(None) => Some(set.clone()),
            SetOp::Read(Some(seen)) => (seen == set).then(|| set.clone()),
        }
    }

    fn is_read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_))
    }

    fn is_unconstrained(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(None))
    }

    fn state_json(&self, set: &BTreeSet<Scalar>) -> Value {
        Value::Array(set.iter().map(Scalar::to_json).collect())
    }

    fn state_heap_bytes(&self, set: &BTreeSet<Scalar>) -> usize {
        set.iter().map(|x| 40 + x.heap_bytes()).sum()
    }
}
