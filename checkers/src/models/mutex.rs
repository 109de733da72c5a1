//! A mutex (lock): `acquire` succeeds only when free, `release` only when held.

use serde_json::Value;

use crate::model::{Model, ModelError};
use history::Op;

/// One lock (split per `key` for several).
#[derive(Clone, Debug, Default)]
pub struct Mutex;

/// A lock op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexOp {
    /// Take the lock.
    Acquire,
    /// Give it back.
    Release,
}

impl Model for Mutex {
    type Op = MutexOp;
    /// Held or not.
    type State = bool;

    fn init(&self) -> bool {
        false
    }

    fn parse(&self, invoke: &Op, _completion: Option<&Op>) -> Result<MutexOp, ModelError> {
        match invoke.f.as_str() {
            "acquire" | "lock" => Ok(MutexOp::Acquire),
            "release" | "unlock" => Ok(MutexOp::Release),
            f => Err(ModelError::unknown_f("mutex", f, &["acquire", "release"])),
        }
    }

    fn step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        match op {
            MutexOp::Acquire => (!held).then_some(true),
            MutexOp::Release => held.then_some(false),
        }
    }

    fn state_json(&self, held: &bool) -> Value {
        Value::String(if *held { "held" } else { "free" }.into())
    }
}
