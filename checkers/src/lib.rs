//! faultline's checkers: a pure library, no processes, no network.
//!
//! Each checker reads a [`History`](history::History) and answers with a [`CheckResult`]: a
//! three-valued verdict and its evidence, as serde data. The main one decides linearizability
//! with respect to a [`model::Model`]; the others are listed in [`CheckDetail`]. They can be
//! used on their own:
//!
//! ```
//! use checkers::models::ModelName;
//! use checkers::{CheckOptions, Checker, Linearizable};
//! use history::{import, Validity};
//!
//! let text = r#"{"type":"invoke","process":0,"f":"write","value":1}
//! {"type":"ok","process":0,"f":"write","value":1}
//! {"type":"invoke","process":1,"f":"read","value":null}
//! {"type":"ok","process":1,"f":"read","value":2}
//! "#;
//! let history = import::read_history("h.jsonl", text, import::Format::Jsonl).unwrap();
//! let checker = Linearizable::new(ModelName::CasRegister);
//! let result = checker.check(&history, &CheckOptions::default()).unwrap();
//! assert_eq!(result.valid, Validity::Invalid); // read 2, but only 1 was ever written
//! ```

#![deny(missing_docs)]

pub mod availability;
pub mod bank;
mod checker;
pub mod counter;
pub mod elle;
pub mod linearizable;
pub mod model;
pub mod models;
pub mod mutual_exclusion;
pub mod set;
pub mod stats;
pub mod synth;

pub use checker::{CheckOptions, CheckResult, Checker, Compose, Named};
pub use linearizable::{check_linearizable, LinearizabilityResult, Linearizable};

use serde::{Deserialize, Serialize};

/// Each checker's own result: the registry of checkers, one variant per checker (adding one:
/// its `pub mod` above and a variant here).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckDetail {
    /// Linearizability against a model, per key.
    Linearizable(LinearizabilityResult),
    /// How the system served clients during each fault (informational: always valid).
    Availability(availability::AvailabilityResult),
    /// Counts per operation (informational: always valid; warns when an operation never
    /// succeeded).
    Stats(stats::StatsResult),
    /// Every acknowledged add of a set is in the final read.
    Set(set::SetResult),
    /// Every read of a counter lies within what the increments allow.
    Counter(counter::CounterResult),
    /// Every read of the accounts sums to the total, none negative.
    Bank(bank::BankResult),
    /// No two clients held a lock at once.
    MutualExclusion(mutual_exclusion::MutualExclusionResult),
    /// No transactional anomaly the consistency model forbids (Elle's list-append).
    ListAppend(elle::ElleResult),
    /// Several checkers, each under its name.
    Compose(Vec<Named>),
    /// The checker panicked: no verdict (`unknown`).
    Crashed {
        /// The panic's message.
        message: String,
    },
}
