//! The three-valued verdict every checker gives.

use serde::{Deserialize, Serialize};

/// valid / invalid / unknown. Merged as Jepsen does: invalid beats unknown beats valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validity {
    /// The property holds.
    Valid,
    /// The property is violated; the checker gives the evidence.
    Invalid,
    /// No verdict (a limit was reached); the checker gives the cause.
    Unknown,
}

impl Validity {
    /// Combines verdicts: any invalid makes invalid, else any unknown makes unknown.
    pub fn merge(all: impl IntoIterator<Item = Validity>) -> Validity {
        all.into_iter().fold(Validity::Valid, |acc, v| match (acc, v) {
            (Validity::Invalid, _) | (_, Validity::Invalid) => Validity::Invalid,
            (Validity::Unknown, _) | (_, Validity::Unknown) => Validity::Unknown,
            _ => Validity::Valid,
        })
    }

    /// `valid`, `invalid` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Validity::Valid => "valid",
            Validity::Invalid => "invalid",
            Validity::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Validity::*;
    use super::*;

    #[test]
    fn merge_prefers_invalid_then_unknown() {
        assert_eq!(Validity::merge([]), Valid);
        assert_eq!(Validity::merge([Valid, Unknown, Valid]), Unknown);
        assert_eq!(Validity::merge([Unknown, Invalid, Valid]), Invalid);
    }
}
