//! The records a run leaves, as serde types: `test.json` ([`TestRecord`]: what was run, to
//! understand and repeat it) and `results.json` ([`RunRecord`]: what came of it). Written by the
//! runner and read back as these same types by the report, `faultline report` and campaigns.

use checkers::CheckResult;
use history::Validity;
use serde::{Deserialize, Serialize};

/// `test.json`. Generic over the test configuration, which the harness owns: readers that only
/// display it use a plain map (see [`ConfigView`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRecord<C> {
    /// The test's name (`--name`, or target-workload).
    pub name: String,
    /// The run's id (it names its namespaces and links).
    pub run_id: String,
    /// The seed of every random choice.
    pub seed: u64,
    /// Wall-clock start, RFC 3339.
    pub started: String,
    /// The command that repeats this run (same config, same seed), shell-quoted.
    pub rerun: String,
    /// faultline's version.
    pub faultline_version: String,
    /// The target's version, when it says.
    pub target_version: Option<String>,
    /// Where each node was placed.
    pub nodes: Vec<NodeRecord>,
    /// Notes about the run decided before it started (e.g. faults that cannot act on this
    /// target).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The whole configuration.
    pub config: C,
}

/// A configuration read only to be shown: option name → value.
pub type ConfigView = serde_json::Map<String, serde_json::Value>;

/// One node of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// `n1`, …
    pub name: String,
    /// Its address.
    pub ip: String,
    /// Its network namespace.
    pub namespace: String,
}

/// `results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The verdict: the checkers', made `unknown` when the run was interrupted.
    pub valid: Validity,
    /// Whether a signal stopped the run early (the verdict covers only what was recorded).
    pub interrupted: bool,
    /// When the stored history is incomplete (a write failed): why. The checkers saw the whole
    /// history, kept in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_incomplete: Option<String>,
    /// From the start of the workload to the end of the final reads, in seconds.
    pub duration_seconds: f64,
    /// Which faults ran, and how often.
    pub faults: FaultsRecord,
    /// How the clients' operations ended.
    pub ops: OpCounts,
    /// Cluster start and teardown.
    pub cluster: ClusterRecord,
    /// Every checker's verdict and evidence (a composition).
    pub checks: CheckResult,
}

/// The faults of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultsRecord {
    /// The fault kinds that could be drawn.
    pub kinds: Vec<String>,
    /// Seconds between faults.
    pub interval_seconds: f64,
    /// Seconds each fault lasts.
    pub duration_seconds: f64,
    /// Notes (faults that do not apply to this target, a clock moved machine-wide, …).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Counts of the client operations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    /// Completed ok.
    pub ok: u64,
    /// Definitely failed.
    pub fail: u64,
    /// Indeterminate.
    pub info: u64,
    /// Independent keys touched by ok ops.
    pub keys: usize,
    /// Fewest ok ops on one key.
    pub ok_per_key_min: Option<usize>,
    /// The median of ok ops per key.
    pub ok_per_key_median: Option<usize>,
    /// Most ok ops on one key.
    pub ok_per_key_max: Option<usize>,
}

/// The cluster's start and teardown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterRecord {
    /// Seconds from starting the nodes until all were ready.
    pub start_seconds: f64,
    /// Seconds to kill the nodes and remove the network.
    pub teardown_seconds: f64,
    /// What could not be cleaned up.
    #[serde(default)]
    pub teardown_problems: Vec<String>,
}

impl OpCounts {
    /// Counts of a history's client ops.
    pub fn of(history: &history::History) -> OpCounts {
        let mut counts = OpCounts::default();
        let mut ok_by_key: std::collections::BTreeMap<String, usize> = Default::default();
        let pairs = history.pair().unwrap_or_default();
        for p in &pairs {
            match p.outcome {
                history::Outcome::Ok => {
                    counts.ok += 1;
                    let key = history.ops[p.invoke].key.as_ref().map(|k| k.to_string()).unwrap_or_default();
                    *ok_by_key.entry(key).or_default() += 1;
                }
                history::Outcome::Fail => counts.fail += 1,
                history::Outcome::Info => counts.info += 1,
            }
        }
        let mut per_key: Vec<usize> = ok_by_key.into_values().collect();
        per_key.sort_unstable();
        counts.keys = per_key.len();
        counts.ok_per_key_min = per_key.first().copied();
        counts.ok_per_key_median = per_key.get(per_key.len() / 2).copied();
        counts.ok_per_key_max = per_key.last().copied();
        counts
    }
}
