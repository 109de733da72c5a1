//! The ground floor of faultline: what a history is, and nothing that runs.
//!
//! Every other crate speaks these types: the runner records [`Op`]s, the checkers read a
//! [`History`] and answer with a [`Validity`], the report draws both. Histories from other tools
//! (Jepsen/Knossos EDN, Porcupine's logs) are turned into ours by [`import`]. The one seeded
//! random source, [`rng::Rng`], lives here so that generators, faults and synthetic histories all
//! draw from the same kind of stream. Fault ops (`start-<fault>` / `stop-<fault>`) are read and
//! written only through [`faults`].
//!
//! ```
//! use history::{History, OpType};
//!
//! let text = r#"{"type":"invoke","process":0,"f":"write","value":1}
//! {"type":"ok","process":0,"f":"write","value":1}
//! "#;
//! let h = History::read_jsonl("h.jsonl", text.as_bytes()).unwrap();
//! assert_eq!(h.ops[1].kind, OpType::Ok);
//! ```

#![deny(missing_docs)]

pub mod edn;
pub mod faults;
mod history;
pub mod import;
pub mod rng;
mod validity;

pub use history::{History, HistoryError, Key, Op, OpType, Outcome, PairedOp, Process};
pub use rng::Rng;
pub use validity::Validity;
