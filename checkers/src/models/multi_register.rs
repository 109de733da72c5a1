//! Knossos's multi-register: each op is a `txn` of reads and writes over a few registers, applied
//! atomically. Not split internally: registers in one txn depend on each other.
//! `value`: `[["read", "x", null], ["write", "y", 2]]` (`r`/`w` also accepted); an ok txn's
//! completion carries the values its reads saw.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Model, ModelError, Scalar};
use crate::models::NilRead;
use history::Op;

/// Several registers, all starting at `init`.
#[derive(Clone, Debug)]
pub struct MultiRegister {
    init: Scalar,
    nil_read: NilRead,
}

impl MultiRegister {
    /// Registers that start at `init`.
    pub fn new(init: Scalar) -> Self {
        MultiRegister { init, nil_read: NilRead::Value }
    }

    /// The same registers, reading reads of nil as `nil_read` says.
    pub fn with_nil_read(self, nil_read: NilRead) -> Self {
        MultiRegister { nil_read, ..self }
    }
}

/// One read or write inside a txn. A read's value is `None` when unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Micro {
    /// Read register `.0`, which held `.1`.
    Read(Scalar, Option<Scalar>),
    /// Write `.1` to register `.0`.
    Write(Scalar, Scalar),
}

/// Register name to value; registers holding the initial value are left out, so that equal
/// states compare equal.
pub type Registers = BTreeMap<Scalar, Scalar>;

fn micros(v: &Value, known_results: bool, nil_read: NilRead) -> Result<Vec<Micro>, ModelError> {
    let Value::Array(items) = v else {
        return Err(ModelError::new("value", format!("a txn needs a list of [f, register, value], found {v}")));
    };
    items
        .iter()
        .map(|item| match item {
            Value::Array(parts) if parts.len() == 3 => {
                let reg = Scalar::from_json(&parts[1], "value", "a register name")?;
                let val = Scalar::from_json(&parts[2], "value", "a register value")?;
                match parts[0].as_str() {
                    Some("read" | "r") => {
                        let known = known_results && !(val == Scalar::Nil && nil_read == NilRead::Unknown);
                        Ok(Micro::Read(reg, known.then_some(val)))
                    }
                    Some("write" | "w") => Ok(Micro::Write(reg, val)),
                    _ => Err(ModelError::new("value", format!("a txn step must start with read or write, found {}", parts[0]))),
                }
            }
            other => Err(ModelError::new("value", format!("a txn step must be [f, register, value], found {other}"))),
        })
        .collect()
}

impl Model for MultiRegister {
    type Op = Vec<Micro>;
    type State = Registers;

    fn init(&self) -> Registers {
        Registers::new()
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<Vec<Micro>, ModelError> {
        if invoke.f != "txn" {
            return Err(ModelError::unknown_f("multi-register", &invoke.f, &["txn"]));
        }
        match completion {
            Some(c) => micros(&c.value, true, self.nil_read),
            None => micros(&invoke.value, false, self.nil_read),
        }
    }

    fn step(&self, state: &Registers, op: &Vec<Micro>) -> Option<Registers> {
        let mut next = state.clone();
        for micro in op {
            match micro {
                Micro::Read(_, None) => {}
                Micro::Read(reg, Some(v)) => {
                    if next.get(reg).unwrap_or(&self.init) != v {
                        return None;
                    }
                }
                Micro::Write(reg, v) if *v == self.init => {
                    next.remove(reg);
                }
                Micro::Write(reg, v) => {
                    next.insert(reg.clone(), v.clone());
                }
            }
        }
        Some(next)
    }

    fn is_unconstrained(&self, op: &Vec<Micro>) -> bool {
        op.iter().all(|m| matches!(m, Micro::Read(_, None)))
    }

    fn state_json(&self, state: &Registers) -> Value {
        Value::Object(
            state
                .iter()
                .map(|(k, v)| {
                    (
                        match k {
                            Scalar::Str(s) => s.to_string(),
                            other => format!("{other:?}"),
                        },
                        v.to_json(),
                    )
                })
                .collect(),
        )
    }

    fn state_heap_bytes(&self, state: &Registers) -> usize {
        state.iter().map(|(k, v)| 48 + k.heap_bytes() + v.heap_bytes()).sum()
    }
}
