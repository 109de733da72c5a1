//! Workloads: what the clients do ([`generator`]s), what they do once the faults are healed,
//! and how the history is checked, one [`Workload`] per file. Also the [`Client`] contract that
//! every target's client implements. Knows nothing of targets, namespaces or faults.
//!
//! Adding a workload: a new file implementing [`Workload`], and a variant (with its doc
//! comment, which is its `--help` text) and a match arm in [`WorkloadKind`] below.

#![deny(missing_docs)]

pub mod bank;
pub mod client;
pub mod counter;
pub mod generator;
pub mod list_append;
pub mod lock;
pub mod register;
pub mod rw_register;
pub mod set;
mod workload;

use serde::{Deserialize, Serialize};

pub use client::{BoxFuture, Client, Completion, Invocation};
pub use generator::{BoxGen, Context, Generator, Next};
pub use workload::Workload;

/// The workloads, by the name `--workload` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// Read, write and compare-and-set of small integers on rotating keys; linearizability
    /// with the cas-register model, per key.
    Register,
    /// Read and blind write (no compare-and-set) on rotating keys; linearizability with the
    /// register model, per key.
    RwRegister,
    /// Unique adds to one set, then a final read of the whole set; every acknowledged add must
    /// be in it (lost, unexpected, duplicated, recovered elements).
    Set,
    /// Increments and reads of one counter; every read must lie between the increments that
    /// surely happened and those that may have.
    Counter,
    /// Clients acquire a lock, hold it 0–1 s and release it; linearizability with the mutex
    /// model, and no two acknowledged holds may overlap (run with --request-timeout 5).
    Lock,
    /// Each add acquires the lock, reads a set kept in the harness, sleeps 0–2 s, writes the set
    /// with its element and releases; a final read: an acknowledged add that is lost means two
    /// clients held the lock at once (Jepsen's etcd lock test; --request-timeout 5).
    LockSet,
    /// Transfers between 5 accounts of 20, each one transaction, and reads of every account at
    /// once; every read must sum to 100 with no negative balance.
    Bank,
    /// Transactions of 1–4 appends to and reads of lists over a rotating group of 4 keys;
    /// transactional anomalies (Elle: G0, G1a/b/c, G-single, G2-item…) under strict
    /// serializability.
    ListAppend,
}

/// What a workload may be configured with.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadOptions {
    /// Operations per key before a workload on rotating keys moves on to a fresh key.
    pub ops_per_key: u64,
}

impl WorkloadKind {
    /// The workload, configured.
    pub fn build(self, options: &WorkloadOptions) -> Box<dyn Workload> {
        match self {
            WorkloadKind::Register => Box::new(register::Register { ops_per_key: options.ops_per_key }),
            WorkloadKind::RwRegister => Box::new(rw_register::RwRegister { ops_per_key: options.ops_per_key }),
            WorkloadKind::Set => Box::new(set::Set),
            WorkloadKind::Counter => Box::new(counter::Counter),
            WorkloadKind::Lock => Box::new(lock::Lock),
            WorkloadKind::LockSet => Box::new(lock::LockSet::new()),
            WorkloadKind::Bank => Box::new(bank::Bank),
            WorkloadKind::ListAppend => Box::new(list_append::ListAppend),
        }
    }

    /// The name `--workload` takes.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Register => "register",
            WorkloadKind::RwRegister => "rw-register",
            WorkloadKind::Set => "set",
            WorkloadKind::Counter => "counter",
            WorkloadKind::Lock => "lock",
            WorkloadKind::LockSet => "lock-set",
            WorkloadKind::Bank => "bank",
            WorkloadKind::ListAppend => "list-append",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn names_agree_between_clap_serde_and_the_registry() {
        for kind in WorkloadKind::value_variants() {
            let clap_name = kind.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(clap_name.as_deref(), Some(kind.name()));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
            let w = kind.build(&WorkloadOptions { ops_per_key: 10 });
            assert!(!w.operations().is_empty() && !w.checkers().is_empty());
            assert_eq!(w.name(), kind.name());
        }
    }
}
