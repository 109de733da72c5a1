//! A string key-value store with get / put / append, as in Porcupine's kv test data. The history
//! is split per `key`, so the model is one key's string; every key starts as "".
//!
//! The state is `None` for "a string no pending get can ever see": once the search knows a
//! string must be overwritten by a put before anyone reads it, all such strings behave alike and
//! are merged (see [`Model::forget`]). Without this, k concurrent appends before a put give k!
//! distinct strings and the search explodes (Porcupine's c50-bad).

use std::sync::Arc;

use serde_json::Value;

use crate::model::{result_value, Model, ModelError};
use history::Op;

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
    type State = Option<Arc<str>>;

    fn init(&self) -> Option<Arc<str>> {
        Some("".into())
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<KvOp, ModelError> {
        match invoke.f.as_str() {
            "get" => Ok(KvOp::Get(result_value(completion).map(|v| string(v, "a get's result")).transpose()?)),
            "put" => Ok(KvOp::Put(string(&invoke.value, "a put's argument")?)),
            "append" => Ok(KvOp::Append(string(&invoke.value, "an append's argument")?)),
            f => Err(ModelError::unknown_f("kv", f, &["get", "put", "append"])),
        }
    }

    fn step(&self, state: &Option<Arc<str>>, op: &KvOp) -> Option<Option<Arc<str>>> {
        match (op, state) {
            (KvOp::Get(None), _) => Some(state.clone()),
            (KvOp::Get(Some(v)), Some(s)) => (v == s).then(|| state.clone()),
            (KvOp::Get(Some(_)), None) => None,
            (KvOp::Put(v), _) => Some(Some(v.clone())),
            (KvOp::Append(_), None) => Some(None),
            (KvOp::Append(v), Some(s)) => {
                let mut next = String::with_capacity(s.len() + v.len());
                next.push_str(s);
                next.push_str(v);
                Some(Some(next.into()))
            }
        }
    }

    const LOOKS_AHEAD: bool = true;

    /// A get of `v` needs the string to grow into `v` by appends, unless an available put
    /// replaces it first: so `v` starts with the current string or with some available put.
    fn may_reach(&self, state: &Option<Arc<str>>, target: &KvOp, available: &[&KvOp]) -> bool {
        let KvOp::Get(Some(v)) = target else { return true };
        state.as_ref().is_some_and(|s| v.starts_with(&**s)) || available.iter().any(|op| matches!(op, KvOp::Put(p) if v.starts_with(&**p)))
    }

    /// An indeterminate put or append of a text that no `ok` get returned within its string:
    /// placed, every string after it holds that text until the next put, so no get happens
    /// in between (none returned such a string); appends and puts there accept any string, and
    /// after the put everything is as without it. So it is left out.
    fn unobservable(&self, ops: &[(&KvOp, bool)]) -> Vec<bool> {
        // The strings gets returned, without those that are prefixes of another (their texts
        // are in the longer one): usually a handful per key.
        let mut seen: Vec<&str> = ops
            .iter()
            .filter_map(|(op, ok)| match op {
                KvOp::Get(Some(v)) if *ok => Some(&**v),
                _ => None,
            })
            .collect();
        seen.sort_unstable_by_key(|s| std::cmp::Reverse(s.len()));
        seen.dedup();
        let mut kept: Vec<&str> = Vec::new();
        for s in seen {
            if !kept.iter().any(|k| k.starts_with(s)) {
                kept.push(s);
            }
        }
        ops.iter()
            .map(|(op, ok)| match op {
                KvOp::Put(v) | KvOp::Append(v) if !*ok => !kept.iter().any(|k| k.contains(&**v)),
                _ => false,
            })
            .collect()
    }

    fn is_read_only(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Get(_))
    }

    fn is_unconstrained(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Get(None))
    }

    const FORGETS: bool = true;

    /// Appends only grow a string, so a pending get of `v` can see `state` (or what grows from
    /// it) only if `v` starts with it. If none can, the string must be overwritten by a put
    /// before anyone reads it.
    fn forget(&self, state: &Option<Arc<str>>, pending: &mut dyn Iterator<Item = &KvOp>) -> Option<Option<Arc<str>>> {
        let s = state.as_ref()?;
        for op in pending {
            if matches!(op, KvOp::Get(Some(v)) if v.starts_with(&**s)) {
                return None;
            }
        }
        Some(None)
    }

    fn state_json(&self, state: &Option<Arc<str>>) -> Value {
        match state {
            Some(s) => Value::String(s.to_string()),
            None => Value::String("(a value no pending get can read: a put must overwrite it first)".into()),
        }
    }

    fn state_heap_bytes(&self, state: &Option<Arc<str>>) -> usize {
        state.as_ref().map_or(0, |s| s.len() + 16)
    }
}
