//! Where nodes run and how they are hurt. Each node lives in its own Linux network namespace with
//! its own IP on a bridge, so that every node can use the same ports and faults are per node, as
//! on separate hosts. Everything created here is named after the run (`fl-<run id>-…`), so that
//! several runs can share a machine and `faultline clean` can remove exactly what a killed run
//! left behind, and nothing else.
//!
//! [`faults`] holds the faults, one file each behind the [`faults::Fault`] trait; the modules
//! beside it are the mechanisms they use (namespaces, processes, iptables, NFQUEUE delays,
//! libfaketime clocks, grudges). Commands are always argument vectors, never shell strings.

#![deny(missing_docs)]

pub mod clock;
pub mod command;
pub mod faults;
pub mod grudge;
pub mod iptables;
pub mod latency;
pub mod netns;
pub mod process;

pub use command::CommandError;
pub use faults::{ClusterControl, Fault, FaultContext, FaultError, FaultKind, FaultOptions};
pub use netns::{ClusterNet, NodeNet, RunId};
pub use process::NodeProcess;
