//! The sequential specification a history is checked against (Porcupine's Model: init, step,
//! partition). A model first turns each history op into its own typed op (`parse`), once, so that
//! the search never looks at JSON; then `step` applies one op to a state.

use std::fmt::{self, Debug};
use std::hash::Hash;
use std::sync::Arc;

use serde_json::Value;

use history::Op;

/// A sequential object: what a linearizable system must behave like, one op at a time.
///
/// Histories are split per `key` field before the search (P-compositionality), so a model
/// describes one key's object. To add a model, implement this in a new file under `models/` and
/// list it in [`crate::models::ModelName`].
pub trait Model: Send + Sync {
    /// An op with its argument and, when known, its observed result.
    type Op: Clone + Debug + Eq + Hash + Send + Sync;
    /// The object's state. Hashed and stored by the search's memo table, so keep it small.
    type State: Clone + Debug + Eq + Hash + Send + Sync;

    /// The state before any op.
    fn init(&self) -> Self::State;

    /// Builds the model's op from an invoke and, when the op completed `ok`, its completion.
    /// `completion` is `None` for an indeterminate op (its result is unknown). An `f` this model
    /// does not know, or a value of the wrong shape, is an error.
    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<Self::Op, ModelError>;

    /// Applies `op` to `state`: the next state, or `None` if `op` could not have happened here.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// True when `op` never changes any state and is accepted in every state (a read whose result
    /// is unknown). Such indeterminate ops constrain nothing and are dropped before the search.
    fn is_unconstrained(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Whether [`Model::may_reach`] is implemented (the search then looks ahead).
    const LOOKS_AHEAD: bool = false;

    /// A quick necessary condition used to prune the search: could `target`, an op that must be
    /// linearized before its return, still be linearized from `state` if only ops from
    /// `available` (ops invoked before that return) were applied first, in some order? Return
    /// `false` only when it certainly could not; `true` when unsure.
    fn may_reach(&self, _state: &Self::State, _target: &Self::Op, _available: &[&Self::Op]) -> bool {
        true
    }

    /// Whether [`Model::forget`] is implemented.
    const FORGETS: bool = false;

    /// States that no pending op can ever observe may be merged: return `Some(stand_in)` when
    /// no op in `pending` (the `ok` ops not yet linearized, earliest return first) could observe
    /// `state` or any state grown from it before it is overwritten. Every such state then
    /// behaves the same, and the search's memo table can treat them as one.
    fn forget(&self, _state: &Self::State, _pending: &mut dyn Iterator<Item = &Self::Op>) -> Option<Self::State> {
        None
    }

    /// Which indeterminate ops of one key can be left out before the search because nothing
    /// could ever observe them (`ops`: each op and whether it completed `ok`; the answer: one
    /// flag per op). Leaving out an indeterminate op is always allowed (it may never have
    /// happened); this is for ops whose presence could not help any linearization, and the
    /// search is faster without them. They are counted in the result.
    fn unobservable(&self, ops: &[(&Self::Op, bool)]) -> Vec<bool> {
        vec![false; ops.len()]
    }

    /// True when `op` never changes the state: in every state it is either refused or leaves
    /// the state as it is (a read). The search then takes such an `ok` op as soon as the state
    /// accepts it, without trying the alternatives.
    fn is_read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Whether an indeterminate `op`, once placed, must be observed by the very next op
    /// ([`Model::observes`]), or else be left out. True for ops whose effect is overwritten
    /// whole by the next op that does not observe it (a register's write or compare-and-set):
    /// in any linearization such an op is either observed at once, or followed by an op that
    /// ignores the state (a write), and then leaving it out changes nothing. So the search
    /// places it only right before an op that observes it.
    fn needs_observer(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Whether `op`, applied to `state`, depends on it and accepts it (a read of that value, a
    /// compare-and-set from it). Only asked after an op for which [`Model::needs_observer`] is
    /// true.
    fn observes(&self, _op: &Self::Op, _state: &Self::State) -> bool {
        true
    }

    /// The state as JSON, for explanations and reports.
    fn state_json(&self, state: &Self::State) -> Value;

    /// Bytes the state holds on the heap, for the memory budget.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }
}

/// An op the model cannot use: which field, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct ModelError {
    /// `f`, `value`, …
    pub field: &'static str,
    /// What was wrong and what was expected.
    pub message: String,
}

impl ModelError {
    /// An error about `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ModelError { field, message: message.into() }
    }

    /// The op's `f` is not one this model knows.
    pub fn unknown_f(model: &str, f: &str, known: &[&str]) -> Self {
        ModelError::new("f", format!("model `{model}` has no operation `{f}` (it knows: {})", known.join(", ")))
    }
}

/// A register value: nil, a boolean, an integer or a string. Cheap to clone and hash.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    /// No value (Jepsen's nil, JSON's null).
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string (keywords arrive as strings too).
    Str(Arc<str>),
}

impl Scalar {
    /// Reads a JSON scalar; `field` and `what` name it in the error.
    pub fn from_json(v: &Value, field: &'static str, what: &str) -> Result<Scalar, ModelError> {
        match v {
            Value::Null => Ok(Scalar::Nil),
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            Value::Number(n) => {
                n.as_i64().map(Scalar::Int).ok_or_else(|| ModelError::new(field, format!("{what}: expected an integer, found {n}")))
            }
            Value::String(s) => Ok(Scalar::Str(s.as_str().into())),
            other => Err(ModelError::new(field, format!("{what}: expected nil, a boolean, an integer or a string, found {other}"))),
        }
    }

    /// Parses a value given on the command line (`--init 0`, `--init nil`, `--init '"a"'`).
    pub fn parse_arg(s: &str) -> Scalar {
        match s {
            "nil" | "null" => Scalar::Nil,
            "true" => Scalar::Bool(true),
            "false" => Scalar::Bool(false),
            _ => match s.parse::<i64>() {
                Ok(i) => Scalar::Int(i),
                Err(_) => Scalar::Str(s.trim_matches('"').into()),
            },
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Scalar::Nil => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Str(s) => Value::String(s.to_string()),
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Scalar::Str(s) => s.len() + 16,
            _ => 0,
        }
    }
}

impl Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Nil => f.write_str("nil"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// The `value` of an op whose result is known (`Some`) or not (`None`).
pub(crate) fn result_value(completion: Option<&Op>) -> Option<&Value> {
    completion.map(|c| &c.value)
}
