//! A counter: `add n` (n defaults to 1) and `read`, which must return the current total.

use serde_json::Value;

use crate::model::{result_value, Model, ModelError};
use history::Op;

/// A counter starting at `init`.
#[derive(Clone, Debug, Default)]
pub struct Counter {
    init: i64,
}

impl Counter {
    /// A counter that starts at `init`.
    pub fn new(init: i64) -> Self {
        Counter { init }
    }
}

/// A counter op. A read's value is `None` when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CounterOp {
    /// Add this amount (may be negative).
    Add(i64),
    /// Read, with the total it returned.
    Read(Option<i64>),
}

fn int(v: &Value, what: &str) -> Result<i64, ModelError> {
    v.as_i64().ok_or_else(|| ModelError::new("value", format!("{what}: expected an integer, found {v}")))
}

impl Model for Counter {
    type Op = CounterOp;
    type State = i64;

    fn init(&self) -> i64 {
        self.init
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<CounterOp, ModelError> {
        match invoke.f.as_str() {
            "add" | "incr" => match &invoke.value {
                Value::Null => Ok(CounterOp::Add(1)),
                v => Ok(CounterOp::Add(int(v, "an add's amount")?)),
            },
            "read" => Ok(CounterOp::Read(result_value(completion).map(|v| int(v, "a read's result")).transpose()?)),
            f => Err(ModelError::unknown_f("counter", f, &["add", "read"])),
        }
    }

    fn step(&self, total: &i64, op: &CounterOp) -> Option<i64> {
        match op {
            CounterOp::Add(n) => total.checked_add(*n),
            CounterOp::Read(None) => Some(*total),
            CounterOp::Read(Some(v)) => (v == total).then_some(*total),
        }
    }

    fn is_read_only(&self, op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read(_))
    }

    fn is_unconstrained(&self, op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read(None))
    }

    fn state_json(&self, total: &i64) -> Value {
        Value::from(*total)
    }
}
