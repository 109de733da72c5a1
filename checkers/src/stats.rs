//! Counts of ok / fail / info per operation (Jepsen's `stats` checker). Jepsen calls a history
//! invalid when some operation never succeeded; here that is a warning and the verdict stays
//! valid, because it says the test proved little, not that the system did something wrong.

use std::collections::BTreeMap;

use history::{History, HistoryError, Outcome, Validity};
use serde::{Deserialize, Serialize};

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

/// The stats checker.
pub struct Stats;

/// Counts per operation, and the operations that never succeeded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsResult {
    /// Per `f`: how its client ops ended.
    pub by_f: BTreeMap<String, Counts>,
    /// Operations attempted that never once ended `ok`: a verdict says little about them.
    pub never_ok: Vec<String>,
}

/// How ops ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Took effect.
    pub ok: usize,
    /// Definitely did not.
    pub fail: usize,
    /// Unknown (including ops that never completed).
    pub info: usize,
}

impl Checker for Stats {
    fn name(&self) -> &'static str {
        "stats"
    }

    fn check(&self, history: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let mut by_f: BTreeMap<String, Counts> = BTreeMap::new();
        for pair in history.pair()? {
            let c = by_f.entry(history.ops[pair.invoke].f.clone()).or_default();
            match pair.outcome {
                Outcome::Ok => c.ok += 1,
                Outcome::Fail => c.fail += 1,
                Outcome::Info => c.info += 1,
            }
        }
        let never_ok = by_f.iter().filter(|(_, c)| c.ok == 0).map(|(f, _)| f.clone()).collect();
        Ok(CheckResult { valid: Validity::Valid, detail: CheckDetail::Stats(StatsResult { by_f, never_ok }) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_operation_and_names_the_ones_that_never_succeeded() {
        let text = concat!(
            r#"{"type":"invoke","process":0,"f":"write","value":1}"#,
            "\n",
            r#"{"type":"ok","process":0,"f":"write","value":1}"#,
            "\n",
            r#"{"type":"invoke","process":1,"f":"cas","value":[1,2]}"#,
            "\n",
            r#"{"type":"fail","process":1,"f":"cas","value":[1,2]}"#,
            "\n",
            r#"{"type":"invoke","process":2,"f":"cas","value":[1,3]}"#,
            "\n",
        );
        let h = History::read_jsonl("h", text.as_bytes()).unwrap();
        let r = Stats.check(&h, &CheckOptions::default()).unwrap();
        assert_eq!(r.valid, Validity::Valid);
        let CheckDetail::Stats(s) = r.detail else { panic!("{r:?}") };
        assert_eq!(s.by_f["write"], Counts { ok: 1, fail: 0, info: 0 });
        assert_eq!(s.by_f["cas"], Counts { ok: 0, fail: 1, info: 1 });
        assert_eq!(s.never_ok, vec!["cas".to_string()]);
    }
}
