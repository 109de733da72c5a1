//! Workloads: what the clients do (generators) and how they talk to each target (clients).
//! Knows nothing of namespaces or faults.

#![deny(missing_docs)]

pub mod bundled;
pub mod client;
pub mod etcd;
pub mod generator;
pub mod register;

pub use client::{Client, Completion, Invocation};
pub use generator::{Context, Generator, Next};
