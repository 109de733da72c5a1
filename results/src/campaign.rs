//! A campaign's record (`campaign.json`): every test of the matrix with its configuration, its
//! verdict against what was expected, and where its run lives; the tests the time budget left
//! out; and whether the campaign was interrupted. Written after every test (so an interrupted
//! campaign keeps what it did) and read back as this type to resume it, to compare it with the
//! previous campaign of the same name, and to write its JUnit file.

use std::time::Duration;

use history::Validity;
use serde::{Deserialize, Serialize};

/// `campaign.json`. Generic over the test configuration, as [`crate::TestRecord`] is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignRecord<C> {
    /// The campaign's name (from its file).
    pub name: String,
    /// The campaign file.
    pub file: String,
    /// Wall-clock start, RFC 3339.
    pub started: String,
    /// Set when every test of the shard ran (or was skipped by the budget).
    pub finished: Option<String>,
    /// `(i, n)` when only shard i of n ran.
    pub shard: Option<(u32, u32)>,
    /// The tests run so far, in the matrix's order.
    pub tests: Vec<CampaignTest<C>>,
    /// Tests the time budget left out.
    #[serde(default)]
    pub skipped: Vec<SkippedTest>,
    /// Whether a signal stopped the campaign.
    #[serde(default)]
    pub interrupted: bool,
}

/// One test of a campaign and how it came out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignTest<C> {
    /// Stable across campaigns: the entry, target, workload, faults, seed and repeat.
    pub id: String,
    /// The `[[test]]` entry it came from (0-based).
    pub group: usize,
    /// The verdict that counts as a pass (`valid`, or `invalid` for a bug expected to be caught).
    pub expect: Validity,
    /// The run's verdict; `None` when the run ended in an error.
    pub verdict: Option<Validity>,
    /// Whether the verdict is the expected one.
    pub passed: bool,
    /// Why it did not pass, or why there is no verdict.
    pub cause: Option<String>,
    /// Seconds the test took, start to report.
    pub duration_seconds: f64,
    /// Completed client operations per second of workload.
    pub ops_per_second: Option<f64>,
    /// When the first violation was seen, seconds into the run (a failing op's start, a lost
    /// write's acknowledgement).
    pub first_violation_seconds: Option<f64>,
    /// The run directory, relative to the store.
    pub run_dir: Option<String>,
    /// The whole configuration.
    pub config: C,
}

/// A test left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkippedTest {
    /// Its id.
    pub id: String,
    /// Why.
    pub reason: String,
}

impl<C> CampaignTest<C> {
    /// What a test's outcome counts as for the campaign's verdict: valid when it passed; the
    /// verdict otherwise (invalid when an expected bug was not caught); unknown without one.
    pub fn effective(&self) -> Validity {
        match (self.passed, self.verdict) {
            (true, _) => Validity::Valid,
            (false, Some(Validity::Valid)) => Validity::Invalid,
            (false, Some(v)) => v,
            (false, None) => Validity::Unknown,
        }
    }
}

impl<C> CampaignRecord<C> {
    /// The worst outcome of its tests (invalid over unknown over valid).
    pub fn verdict(&self) -> Validity {
        Validity::merge(self.tests.iter().map(CampaignTest::effective))
    }

    /// The JUnit XML: one testsuite for the campaign, one testcase per test; a test that did
    /// not pass is a failure (with its verdict, cause and report), one without a verdict (or
    /// `unknown`) an error, a skipped one skipped.
    pub fn junit(&self) -> Result<String, quick_junit::SerializeError> {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new(self.name.as_str());
        for t in &self.tests {
            let status = if t.passed {
                TestCaseStatus::success()
            } else {
                let kind = match t.verdict {
                    Some(Validity::Unknown) | None => NonSuccessKind::Error,
                    Some(_) => NonSuccessKind::Failure,
                };
                let mut status = TestCaseStatus::non_success(kind);
                let verdict = t.verdict.map_or("no verdict", |v| v.as_str());
                status.set_message(format!("{verdict} (expected {})", t.expect.as_str()));
                status.set_type(verdict);
                let mut description = t.cause.clone().unwrap_or_default();
                if let Some(dir) = &t.run_dir {
                    description.push_str(&format!("\nreport: {dir}/report.html"));
                }
                status.set_description(description);
                status
            };
            let mut case = TestCase::new(t.id.as_str(), status);
            case.set_classname(format!("{}.group{}", self.name, t.group));
            case.set_time(Duration::from_secs_f64(t.duration_seconds.max(0.0)));
            suite.add_test_case(case);
        }
        for s in &self.skipped {
            let mut status = TestCaseStatus::skipped();
            status.set_message(s.reason.as_str());
            let mut case = TestCase::new(s.id.as_str(), status);
            case.set_classname(format!("{}.skipped", self.name));
            suite.add_test_case(case);
        }
        let mut report = Report::new(format!("faultline campaign {}", self.name));
        report.add_test_suite(suite);
        report.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(id: &str, expect: Validity, verdict: Option<Validity>) -> CampaignTest<()> {
        CampaignTest {
            id: id.into(),
            group: 0,
            expect,
            verdict,
            passed: verdict == Some(expect),
            cause: None,
            duration_seconds: 1.0,
            ops_per_second: None,
            first_violation_seconds: None,
            run_dir: Some(format!("x/{id}")),
            config: (),
        }
    }

    #[test]
    fn the_verdict_is_the_worst_effective_outcome() {
        let record = |tests| CampaignRecord {
            name: "c".into(),
            file: "c.toml".into(),
            started: String::new(),
            finished: None,
            shard: None,
            tests,
            skipped: vec![],
            interrupted: false,
        };
        use Validity::*;
        assert_eq!(record(vec![test("a", Valid, Some(Valid)), test("b", Invalid, Some(Invalid))]).verdict(), Valid, "a caught bug passes");
        assert_eq!(record(vec![test("a", Invalid, Some(Valid))]).verdict(), Invalid, "a bug not caught fails");
        assert_eq!(record(vec![test("a", Valid, None), test("b", Valid, Some(Valid))]).verdict(), Unknown);
        assert_eq!(record(vec![test("a", Valid, Some(Unknown)), test("b", Valid, Some(Invalid))]).verdict(), Invalid);
    }
}
