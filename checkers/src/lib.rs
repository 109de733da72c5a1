//! faultline's history model and checkers.
//!
//! A pure library: it reads histories (our JSONL, Jepsen/Knossos EDN, Porcupine's logs) and
//! decides whether they are linearizable with respect to a [`model::Model`]. It knows nothing of
//! processes or networks, so it can be used on its own:
//!
//! ```
//! use checkers::{import, models::ModelName, CheckOptions, Validity};
//!
//! let text = r#"{"type":"invoke","process":0,"f":"write","value":1}
//! {"type":"ok","process":0,"f":"write","value":1}
//! {"type":"invoke","process":1,"f":"read","value":null}
//! {"type":"ok","process":1,"f":"read","value":2}
//! "#;
//! let history = import::read_history("h.jsonl", text, import::Format::Jsonl).unwrap();
//! let result = ModelName::CasRegister.check(None, &history, &CheckOptions::default()).unwrap();
//! assert_eq!(result.valid, Validity::Invalid); // read 2, but only 1 was ever written
//! ```

#![deny(missing_docs)]

pub mod edn;
pub mod history;
pub mod import;
pub mod linearizable;
pub mod model;
pub mod models;
pub mod rng;
pub mod synth;
pub mod verdict;

pub use history::{History, HistoryError, Key, Op, OpType, Outcome, Process};
pub use linearizable::{check_linearizable, CheckOptions, LinearizabilityResult};
pub use verdict::Validity;
