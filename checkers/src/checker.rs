//! The [`Checker`] trait (Jepsen's checker protocol): a history in, a three-valued verdict and
//! its evidence out, as plain serde data that can be stored in `results.json`, read back and
//! rendered later. [`Compose`] runs several and merges their verdicts (invalid beats unknown
//! beats valid); a checker that panics gives `unknown`, not a crash of the whole check.
//!
//! A new checker is one file with a struct implementing [`Checker`] and a result type, plus its
//! `pub mod` and one variant in [`CheckDetail`], both in `lib.rs` (the report renders details
//! it has no section for as a table).

use std::time::Duration;

use history::{History, HistoryError, Validity};
use serde::{Deserialize, Serialize};

use crate::availability::AvailabilityResult;
use crate::linearizable::LinearizabilityResult;
use crate::CheckDetail;

/// Decides one property of a history.
pub trait Checker: Send + Sync {
    /// The name its result is filed under in `results.json` and the report.
    fn name(&self) -> &'static str;

    /// Checks `history`. A history the checker cannot read (an op its model does not know, a
    /// broken invoke/completion pairing) is an error that names the file, line and field.
    fn check(&self, history: &History, options: &CheckOptions) -> Result<CheckResult, HistoryError>;
}

/// How long and how much memory a check may use.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Past this the answer is `unknown` (time limit). `None`: no limit.
    pub timeout: Option<Duration>,
    /// Memory budget in bytes; past it the answer is `unknown`.
    pub max_memory: usize,
    /// Worker threads (keys are checked in parallel).
    pub threads: usize,
    /// Decide every key even after one is found invalid (for reports); by default the first
    /// invalid key stops the others.
    pub all_keys: bool,
    /// Set from outside to stop the check at once (its answer is then `unknown`).
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            timeout: None,
            max_memory: 4 << 30,
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            all_keys: false,
            interrupt: None,
        }
    }
}

/// A checker's verdict and its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// valid / invalid / unknown.
    pub valid: Validity,
    /// What the checker found, in its own terms.
    pub detail: CheckDetail,
}

/// One checker's result in a composition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Named {
    /// The checker's name.
    pub name: String,
    /// Its result.
    #[serde(flatten)]
    pub result: CheckResult,
}

impl CheckResult {
    /// The results directly inside this one: itself, or each part of a composition.
    pub fn parts(&self) -> Vec<(&str, &CheckResult)> {
        match &self.detail {
            CheckDetail::Compose(parts) => parts.iter().map(|p| (p.name.as_str(), &p.result)).collect(),
            _ => vec![("", self)],
        }
    }

    /// The linearizability result, if this is one or a composition holds one.
    pub fn linearizable(&self) -> Option<&LinearizabilityResult> {
        self.parts().into_iter().find_map(|(_, r)| match &r.detail {
            CheckDetail::Linearizable(l) => Some(l),
            _ => None,
        })
    }

    /// The availability result, if this is one or a composition holds one.
    pub fn availability(&self) -> Option<&AvailabilityResult> {
        self.parts().into_iter().find_map(|(_, r)| match &r.detail {
            CheckDetail::Availability(a) => Some(a),
            _ => None,
        })
    }
}

/// Several checkers as one (Jepsen's `compose`): each runs on the whole history; the verdict
/// is the worst of theirs.
pub struct Compose(pub Vec<Box<dyn Checker>>);

impl Checker for Compose {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn check(&self, history: &History, options: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let mut parts = Vec::with_capacity(self.0.len());
        for checker in &self.0 {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| checker.check(history, options)));
            let result = match outcome {
                Ok(result) => result?,
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".to_string());
                    CheckResult { valid: Validity::Unknown, detail: CheckDetail::Crashed { message } }
                }
            };
            parts.push(Named { name: checker.name().to_string(), result });
        }
        let valid = Validity::merge(parts.iter().map(|p| p.result.valid));
        Ok(CheckResult { valid, detail: CheckDetail::Compose(parts) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static str, Validity);
    impl Checker for Fixed {
        fn name(&self) -> &'static str {
            self.0
        }
        fn check(&self, _: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
            Ok(CheckResult { valid: self.1, detail: CheckDetail::Crashed { message: String::new() } })
        }
    }

    struct Panics;
    impl Checker for Panics {
        fn name(&self) -> &'static str {
            "panics"
        }
        fn check(&self, _: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
            panic!("boom")
        }
    }

    fn verdict(checkers: Vec<Box<dyn Checker>>) -> CheckResult {
        Compose(checkers).check(&History::default(), &CheckOptions::default()).unwrap()
    }

    #[test]
    fn compose_merges_invalid_over_unknown_over_valid() {
        let v = |a, b| verdict(vec![Box::new(Fixed("a", a)), Box::new(Fixed("b", b))]).valid;
        assert_eq!(v(Validity::Valid, Validity::Valid), Validity::Valid);
        assert_eq!(v(Validity::Valid, Validity::Unknown), Validity::Unknown);
        assert_eq!(v(Validity::Invalid, Validity::Unknown), Validity::Invalid);
    }

    #[test]
    fn a_panicking_checker_is_unknown_and_named() {
        let r = verdict(vec![Box::new(Fixed("a", Validity::Valid)), Box::new(Panics)]);
        assert_eq!(r.valid, Validity::Unknown);
        let parts = r.parts();
        assert_eq!(parts[1].0, "panics");
        assert_eq!(parts[1].1.detail, CheckDetail::Crashed { message: "boom".into() });
        // Round-trips through JSON as a tagged, named list.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["detail"]["compose"][1]["name"], "panics");
        assert_eq!(serde_json::from_value::<CheckResult>(json).unwrap(), r);
    }
}
