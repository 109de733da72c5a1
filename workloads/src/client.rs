//! The contract between the runner and a target's client. A target implements [`Client`] for
//! the operations it supports; the runner, not the client, stamps process, time and `f` on what
//! it records, and turns a client that takes too long into `info`.

use std::future::Future;
use std::pin::Pin;

use history::Key;
use serde_json::Value;

/// A future that may move between threads: what object-safe async methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

/// How an operation ended.
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
pub trait Client: Send {
    /// Performs one operation.
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion>;
}
