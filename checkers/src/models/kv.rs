//! A string key-value store with get / put / append, as in Porcupine's kv test data. The history
//! is split per `key`, so the model is one key's string; every key starts as "".

use std::sync::Arc;

use serde_json::Value;

use crate::history::Op;
use crate::model::{result_value, Model, ModelError};

/// One key of a string KV store.
#[derive(Clone, Debug, Default)]
pub struct Kv;

/// A kv op. A get's value is `None` when its result is unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// `get`, with the string it returned (nil reads as "").
    Get(Option<Arc<str>>),
    /// `put v`: replaces the value.
    Put(Arc<str>),
    /// `append v`: appends to the value.
    Append(Arc<str>),
}

fn string(v: &Value, what: &str) -> Result<Arc<str>, ModelError> {
    match v {
        Value::String(s) => Ok(s.as_str().into()),
        Value::Null => Ok("".into()),
        other => Err(ModelError::new("value", format!("{what}: expected a string, found {other}"))),
    }
}

impl Model for Kv {
    type Op = KvOp;
    type State = Arc<str>;

    fn init(&self) -> Arc<str> {
        "".into()
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<KvOp, ModelError> {
        match invoke.f.as_str() {
            "get" => Ok(KvOp::Get(result_value(completion).map(|v| string(v, "a get's result")).transpose()?)),
            "put" => Ok(KvOp::Put(string(&invoke.value, "a put's argument")?)),
            "append" => Ok(KvOp::Append(string(&invoke.value, "an append's argument")?)),
            f => Err(ModelError::unknown_f("kv", f, &["get", "put", "append"])),
        }
    }

    fn step(&self, state: &Arc<str>, op: &KvOp) -> Option<Arc<str>> {
        match op {
            KvOp::Get(None) => Some(state.clone()),
            KvOp::Get(Some(v)) => (v == state).then(|| state.clone()),
            KvOp::Put(v) => Some(v.clone()),
            KvOp::Append(v) => {
                let mut s = String::with_capacity(state.len() + v.len());
                s.push_str(state);
                s.push_str(v);
                Some(s.into())
            }
        }
    }

    fn is_unconstrained(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Get(None))
    }

    fn state_json(&self, state: &Arc<str>) -> Value {
        Value::String(state.to_string())
    }

    fn state_heap_bytes(&self, state: &Arc<str>) -> usize {
        state.len() + 16
    }
}
