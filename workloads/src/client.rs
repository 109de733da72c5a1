//! The contract between the runner and a target's client.

use std::future::Future;

use checkers::history::Key;
use serde_json::Value;

/// An operation to perform: what the generator produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// `read`, `write`, `cas`, …
    pub f: String,
    /// The independent key, if the workload has several.
    pub key: Option<Key>,
    /// The argument.
    pub value: Value,
}

/// How an operation ended. The runner, not the client, stamps process, time and `f`, and turns
/// a client that takes too long into `Info`.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// It took effect; the result (a read's value, or the argument echoed).
    Ok(Value),
    /// It definitely did not take effect (a refused cas, a connection never made).
    Fail(String),
    /// Unknown whether it took effect (a timeout, a reset connection, a server error).
    Info(String),
}

/// A connection to one node. A client never retries on its own: a retry would hide an
/// indeterminate outcome from the checker.
pub trait Client: Send + 'static {
    /// Performs one operation.
    fn invoke(&mut self, op: &Invocation) -> impl Future<Output = Completion> + Send;
}
