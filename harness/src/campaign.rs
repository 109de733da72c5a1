//! Campaigns: a matrix of tests from one TOML file, run one after another through
//! [`crate::run::run`], with a record, a JUnit file and a page comparing it with the previous
//! campaign of the same name.
//!
//! ```toml
//! name = "smoke"
//! budget_minutes = 30            # optional: start no test that would end past it
//! [defaults]                     # optional: any test option, under every test
//! concurrency = 10
//! [[test]]
//! target = "bundled"             # or targets = ["bundled", "etcd"]
//! workload = "register"          # or workloads = ["register", "set"]
//! nemesis = ["partition"]        # or nemeses = [["partition"], ["kill"]]
//! time_limit = 8                 # any test option, named as the flag with `_`
//! seeds = [1, 2]                 # or seeds = 3 (1, 2, 3); default [1]
//! repeats = 1                    # runs per seed
//! expect = "invalid"             # the verdict that passes (default "valid")
//! ```
//!
//! The whole file is checked before the first test starts: unknown keys, wrong types and bad
//! values are errors naming their TOML path (`test[1].time_limit`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use history::Validity;
use results::{CampaignRecord, CampaignTest, RunRecord};
use serde::Deserialize;
use toml::{Table, Value};

use crate::config::TestConfig;
use crate::run::{self, EventSink, RunError, RunEvent};
use crate::signals::Interrupt;

/// A campaign file that cannot be run: where, and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {at}{message}")]
pub struct CampaignError {
    /// The campaign file.
    pub file: String,
    /// `test[1].time_limit: `, `line 3, column 7: `, or nothing.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl CampaignError {
    fn new(file: &Path, at: impl Into<String>, message: impl Into<String>) -> CampaignError {
        let at = at.into();
        CampaignError { file: file.display().to_string(), at: if at.is_empty() { at } else { format!("{at}: ") }, message: message.into() }
    }
}

/// One test of the matrix, configured and checked.
#[derive(Clone, Debug)]
pub struct PlannedTest {
    /// Stable identity across campaigns.
    pub id: String,
    /// The `[[test]]` entry (0-based).
    pub group: usize,
    /// The verdict that passes.
    pub expect: Validity,
    /// Its configuration (with the campaign's store).
    pub config: TestConfig,
}

impl PlannedTest {
    /// How long it is expected to take, in seconds: its workload, plus starting, healing and
    /// checking (more for Redis, whose sentinels take a while to agree).
    pub fn expected_seconds(&self) -> f64 {
        let overhead = if self.config.target == targets::TargetKind::Redis { 35.0 } else { 15.0 };
        self.config.time_limit + overhead
    }
}

/// A campaign file, expanded.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Its name.
    pub name: String,
    /// The file.
    pub file: PathBuf,
    /// Start no test that would end past this, from the campaign's start.
    pub budget: Option<Duration>,
    /// Every test, in the file's order.
    pub tests: Vec<PlannedTest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTop {
    name: String,
    budget_minutes: Option<f64>,
    #[serde(default)]
    defaults: Table,
    #[serde(default)]
    test: Vec<Table>,
}

fn toml_error(file: &Path, text: &str, e: toml::de::Error) -> CampaignError {
    let at = e.span().map(|span| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        let column = span.start - text[..span.start.min(text.len())].rfind('\n').map_or(0, |nl| nl + 1) + 1;
        format!("line {line}, column {column}")
    });
    CampaignError::new(file, at.unwrap_or_default(), e.message().to_string())
}

/// Reads and checks a campaign file; every test is configured and validated (no side effect).
pub fn load(file: &Path, store: &Path) -> Result<Campaign, CampaignError> {
    let text = std::fs::read_to_string(file).map_err(|e| CampaignError::new(file, "", format!("cannot read it: {e}")))?;
    let top: FileTop = toml::from_str(&text).map_err(|e| toml_error(file, &text, e))?;
    results::validate_name(&top.name).map_err(|e| CampaignError::new(file, "name", e))?;
    let budget = match top.budget_minutes {
        None => None,
        Some(m) if m.is_finite() && m > 0.0 && m <= 7.0 * 24.0 * 60.0 => Some(Duration::from_secs_f64(m * 60.0)),
        Some(m) => {
            return Err(CampaignError::new(file, "budget_minutes", format!("must be more than 0 and at most a week of minutes, not {m}")))
        }
    };
    if top.test.is_empty() {
        return Err(CampaignError::new(file, "", "no [[test]] entry"));
    }
    if top.defaults.contains_key("store") {
        return Err(CampaignError::new(file, "defaults.store", "the store is the campaign's: give it with --store"));
    }
    let mut tests = Vec::new();
    let mut ids = BTreeSet::new();
    for (group, entry) in top.test.iter().enumerate() {
        for test in expand(file, &top.name, group, &top.defaults, entry, store)? {
            if !ids.insert(test.id.clone()) {
                return Err(CampaignError::new(file, format!("test[{group}]"), format!("the test {} is in the matrix twice", test.id)));
            }
            tests.push(test);
        }
    }
    Ok(Campaign { name: top.name, file: file.to_path_buf(), budget, tests })
}

/// A matrix key's values: the plural key's list, or the singular key's one value, or none.
fn values(file: &Path, at: &str, entry: &mut Table, plural: &str, singular: &str) -> Result<Vec<Option<Value>>, CampaignError> {
    match (entry.remove(plural), entry.remove(singular)) {
        (Some(_), Some(_)) => Err(CampaignError::new(file, at, format!("give `{plural}` or `{singular}`, not both"))),
        (Some(Value::Array(items)), None) if !items.is_empty() => Ok(items.into_iter().map(Some).collect()),
        (Some(_), None) => Err(CampaignError::new(file, format!("{at}.{plural}"), "must be a non-empty list")),
        (None, Some(one)) => Ok(vec![Some(one)]),
        (None, None) => Ok(vec![None]),
    }
}

fn expand(
    file: &Path,
    campaign: &str,
    group: usize,
    defaults: &Table,
    entry: &Table,
    store: &Path,
) -> Result<Vec<PlannedTest>, CampaignError> {
    let at = format!("test[{group}]");
    // The entry over the defaults (its own keys win, campaign keys included).
    let mut entry = {
        let mut merged = defaults.clone();
        merged.extend(entry.clone());
        merged
    };
    if entry.contains_key("store") {
        return Err(CampaignError::new(file, format!("{at}.store"), "the store is the campaign's: give it with --store"));
    }
    let expect = match entry.remove("expect") {
        None => Validity::Valid,
        Some(Value::String(s)) if s == "valid" => Validity::Valid,
        Some(Value::String(s)) if s == "invalid" => Validity::Invalid,
        Some(other) => return Err(CampaignError::new(file, format!("{at}.expect"), format!("\"valid\" or \"invalid\", not {other}"))),
    };
    let repeats = match entry.remove("repeats") {
        None => 1,
        Some(Value::Integer(n)) if (1..=1000).contains(&n) => n as u32,
        Some(other) => return Err(CampaignError::new(file, format!("{at}.repeats"), format!("a number from 1 to 1000, not {other}"))),
    };
    let seeds: Vec<u64> = match (entry.remove("seeds"), entry.remove("seed")) {
        (Some(_), Some(_)) => return Err(CampaignError::new(file, &at, "give `seeds` or `seed`, not both")),
        (Some(Value::Integer(n)), None) if (1..=10_000).contains(&n) => (1..=n as u64).collect(),
        (Some(Value::Array(items)), None) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_integer().filter(|n| *n >= 0).map(|n| n as u64))
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| CampaignError::new(file, format!("{at}.seeds"), "a list of non-negative integers"))?,
        (Some(other), None) => {
            return Err(CampaignError::new(file, format!("{at}.seeds"), format!("a count or a non-empty list of seeds, not {other}")))
        }
        (None, Some(Value::Integer(n))) if n >= 0 => vec![n as u64],
        (None, Some(other)) => return Err(CampaignError::new(file, format!("{at}.seed"), format!("a non-negative integer, not {other}"))),
        (None, None) => vec![1],
    };
    let targets = values(file, &at, &mut entry, "targets", "target")?;
    let workloads = values(file, &at, &mut entry, "workloads", "workload")?;
    let nemeses = values(file, &at, &mut entry, "nemeses", "nemesis")?;
    let mut tests = Vec::new();
    for target in &targets {
        for workload in &workloads {
            for nemesis in &nemeses {
                let mut table = entry.clone();
                for (key, value) in [("target", target), ("workload", workload), ("nemesis", nemesis)] {
                    if let Some(v) = value {
                        table.insert(key.into(), v.clone());
                    }
                }
                // A target that names a file is a spec target; a spec's path is relative to the
                // campaign file.
                if let Some(Value::String(t)) = table.get("target").cloned() {
                    if t.ends_with(".toml") {
                        table.remove("target");
                        table.insert("target_spec".into(), Value::String(t));
                    }
                }
                if let Some(Value::String(spec)) = table.get("target_spec").cloned() {
                    let dir = file.parent().unwrap_or(Path::new("."));
                    table.insert("target_spec".into(), Value::String(targets::spec::absolute(&dir.join(spec)).display().to_string()));
                }
                let config: TestConfig = serde_path_to_error::deserialize(Value::Table(table))
                    .map_err(|e| CampaignError::new(file, format!("{at}.{}", e.path()), e.into_inner().to_string()))?;
                for &seed in &seeds {
                    for repeat in 1..=repeats {
                        let mut config = TestConfig { seed: Some(seed), store: store.to_path_buf(), ..config.clone() };
                        let plan =
                            config.plan().map_err(|e| CampaignError::new(file, format!("{at}.{}", e.flag.replace('-', "_")), e.message))?;
                        let target = plan.target_name;
                        if config.name.is_none() {
                            config.name = Some(format!("{campaign}.{target}-{}", config.workload.name()));
                        }
                        let bugs = if config.bug.is_empty() { String::new() } else { format!("[{}]", config.bug.join(",")) };
                        let mut id = format!("g{group}/{target}{bugs}/{}/{}/seed-{seed}", config.workload.name(), config.nemesis.join(","));
                        if repeats > 1 {
                            id.push_str(&format!("/r{repeat}"));
                        }
                        tests.push(PlannedTest { id, group, expect, config });
                    }
                }
            }
        }
    }
    Ok(tests)
}

/// The tests of shard `i` of `n` (1-based): longest expected first, each to the shard with the
/// least expected time so far — deterministic, so every CI machine computes the same split.
pub fn shard(tests: &[PlannedTest], i: u32, n: u32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..tests.len()).collect();
    order.sort_by(|&a, &b| tests[b].expected_seconds().total_cmp(&tests[a].expected_seconds()).then_with(|| tests[a].id.cmp(&tests[b].id)));
    let mut load = vec![0.0f64; n as usize];
    let mut mine = Vec::new();
    for t in order {
        let least = (0..n as usize).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).unwrap_or(0);
        load[least] += tests[t].expected_seconds();
        if least as u32 == i - 1 {
            mine.push(t);
        }
    }
    mine.sort_unstable();
    mine
}

/// Where a campaign's record, JUnit file and page go.
pub fn campaigns_dir(store: &Path, name: &str) -> PathBuf {
    store.join("campaigns").join(name)
}

/// The campaign records of this name in the store, oldest first, with their directories.
pub fn previous(store: &Path, name: &str) -> Vec<(PathBuf, CampaignRecord<TestConfig>)> {
    let mut found: Vec<(PathBuf, CampaignRecord<TestConfig>)> = std::fs::read_dir(campaigns_dir(store, name))
        .into_iter()
        .flatten()
        .flatten()
        // Directories only: not the `latest` link, which would count its campaign twice.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| results::read_record(&e.path().join("campaign.json")).ok().map(|r| (e.path(), r)))
        .collect();
    found.sort_by(|a, b| a.1.started.cmp(&b.1.started).then_with(|| a.0.cmp(&b.0)));
    found
}

/// Forwards only the run's warnings (the campaign prints one line per test).
struct TestSink<'a> {
    id: &'a str,
}

impl EventSink for TestSink<'_> {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        if let RunEvent::Warning(text) = event {
            eprintln!("warning: {}: {text}", self.id);
        }
        Ok(())
    }
}

/// The earliest violation in a run, seconds into it: a failing op's start, a lost write's
/// acknowledgement, an out-of-bounds counter read.
fn first_violation(record: &RunRecord) -> Option<f64> {
    let mut times: Vec<u64> = Vec::new();
    for (_, part) in record.checks.parts() {
        match &part.detail {
            checkers::CheckDetail::Linearizable(l) => times.extend(l.failures().map(|(_, f)| f.op.start)),
            checkers::CheckDetail::Set(s) => times.extend(s.keys.iter().flat_map(|k| k.lost.iter().map(|l| l.acknowledged))),
            checkers::CheckDetail::Counter(c) => times.extend(c.errors.iter().map(|e| e.time)),
            checkers::CheckDetail::MutualExclusion(m) => times.extend(m.overlaps.iter().map(|o| o.second.from)),
            checkers::CheckDetail::Bank(b) => times.extend(b.bad_reads.iter().map(|r| r.time)),
            checkers::CheckDetail::ListAppend(l) => times.extend(l.anomalies.iter().filter(|a| a.prohibited).map(|a| a.time())),
            _ => {}
        }
    }
    times.into_iter().min().map(|ns| ns as f64 / 1e9)
}

/// Runs one test and says how it came out.
pub fn run_test(test: &PlannedTest, interrupt: &Arc<Interrupt>) -> CampaignTest<TestConfig> {
    let started = Instant::now();
    let mut sink = TestSink { id: &test.id };
    let outcome = run::run(&test.config, &mut sink, interrupt);
    let store = &test.config.store;
    let mut result = CampaignTest {
        id: test.id.clone(),
        group: test.group,
        expect: test.expect,
        verdict: None,
        passed: false,
        cause: None,
        duration_seconds: 0.0,
        ops_per_second: None,
        first_violation_seconds: None,
        run_dir: None,
        config: test.config.clone(),
    };
    match outcome {
        Ok(record) => {
            result.verdict = Some(record.valid);
            result.passed = record.valid == test.expect && !record.interrupted;
            result.ops_per_second = Some((record.ops.ok + record.ops.fail + record.ops.info) as f64 / record.duration_seconds.max(1e-3));
            result.first_violation_seconds = first_violation(&record);
            let summary = report::explain(&record.checks);
            let first_line = summary.lines().find(|l| l.starts_with("invalid") || l.starts_with("unknown")).unwrap_or("").to_string();
            result.cause = match (result.passed, record.interrupted) {
                (_, true) => Some("interrupted".into()),
                (true, _) => None,
                (false, _) if record.valid == Validity::Valid => Some(format!("expected {}, but the run was valid", test.expect.as_str())),
                (false, _) => Some(first_line),
            };
            // The newest run of this test's name is this one.
            let latest = store.join(test.config.name.as_deref().unwrap_or_default()).join("latest");
            result.run_dir = std::fs::read_link(&latest)
                .ok()
                .map(|leaf| Path::new(test.config.name.as_deref().unwrap_or_default()).join(leaf).display().to_string());
        }
        Err(e) => {
            result.cause = Some(match &e {
                RunError::Interrupted(_) => "interrupted".to_string(),
                other => format!("{other:#}"),
            });
        }
    }
    result.duration_seconds = started.elapsed().as_secs_f64();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::Rng;

    fn write(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("faultline-campaign-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn error(text: &str) -> String {
        let path = write("bad", text);
        let e = load(&path, Path::new("store")).unwrap_err().to_string();
        let _ = std::fs::remove_file(&path);
        e
    }

    #[test]
    fn the_issue_s_example_is_three_tests() {
        let path = write(
            "smoke",
            "name = \"smoke\"\n[[test]]\ntarget = \"bundled\"\nworkload = \"register\"\nnemesis = [\"partition\"]\ntime_limit = 8\nseeds = [1, 2]\n\
             [[test]]\ntarget = \"bundled\"\nworkload = \"register\"\nnemesis = [\"partition\"]\nbug = [\"stale-read\"]\ntime_limit = 15\nseeds = [1]\n",
        );
        let c = load(&path, Path::new("/tmp/s")).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(c.tests.len(), 3);
        assert_eq!(c.tests[0].id, "g0/bundled/register/partition/seed-1");
        assert_eq!(c.tests[2].id, "g1/bundled[stale-read]/register/partition/seed-1");
        assert_eq!((c.tests[1].config.seed, c.tests[1].config.time_limit), (Some(2), 8.0));
        assert_eq!(c.tests[0].config.store, Path::new("/tmp/s"));
        assert_eq!(c.tests[0].config.name.as_deref(), Some("smoke.bundled-register"));
    }

    #[test]
    fn matrices_expand_and_defaults_apply() {
        let path = write(
            "matrix",
            "name = \"m\"\n[defaults]\nconcurrency = 3\n[[test]]\ntargets = [\"bundled\", \"etcd\"]\nworkloads = [\"register\", \"set\"]\n\
             nemeses = [[\"partition\"], [\"kill\", \"pause\"]]\nseeds = 2\nrepeats = 2\nexpect = \"valid\"\n",
        );
        let c = load(&path, Path::new("store")).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(c.tests.len(), 2 * 2 * 2 * 2 * 2);
        assert!(c.tests.iter().all(|t| t.config.concurrency == 3));
        assert!(
            c.tests.iter().any(|t| t.id == "g0/etcd/set/kill,pause/seed-2/r2"),
            "{:?}",
            c.tests.iter().map(|t| &t.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn errors_name_the_toml_path() {
        for (text, says) in [
            ("name = \"x\"\n[[test]]\ntime_limt = 3\n", "test[0].time_limt: unknown field"),
            ("name = \"x\"\n[[test]]\ntime_limit = \"soon\"\n", "test[0].time_limit: invalid type"),
            ("name = \"x\"\n[[test]]\ntime_limit = -3\n", "test[0].time_limit: must be more than 0"),
            ("name = \"x\"\n[[test]]\ntarget = \"mongo\"\n", "test[0].target: unknown variant `mongo`"),
            ("name = \"x\"\n[[test]]\nnemesis = [\"gremlins\"]\n", "test[0].nemesis: unknown fault `gremlins`"),
            ("name = \"x\"\n[[test]]\nexpect = \"maybe\"\n", "test[0].expect"),
            ("name = \"x\"\n[[test]]\nseeds = []\n", "test[0].seeds"),
            ("name = \"x\"\n[[test]]\ntargets = [\"etcd\"]\ntarget = \"etcd\"\n", "not both"),
            ("name = \"x\"\n[[test]]\nstore = \"elsewhere\"\n", "test[0].store"),
            ("name = \"x\"\n[[test]]\nseeds = [1, 1]\n", "twice"),
            ("name = \"x\"\nbudget_minutes = -1\n[[test]]\n", "budget_minutes"),
            ("name = \"../x\"\n[[test]]\n", "name: "),
            ("name = \"x\"\ntypo = 1\n[[test]]\n", "unknown field `typo`"),
            ("name = \"x\"\n[[test]\n", "line 2"),
            ("name = \"x\"\n", "no [[test]]"),
        ] {
            let e = error(text);
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }

    /// Every test is in exactly one shard, for random matrices and shard counts.
    #[test]
    fn shards_partition_the_matrix() {
        let mut rng = Rng::new(16);
        for _ in 0..200 {
            let tests: Vec<PlannedTest> = (0..1 + rng.below(40))
                .map(|i| {
                    let config = TestConfig { time_limit: 1.0 + rng.below(120) as f64, ..TestConfig::default() };
                    PlannedTest { id: format!("t{i}"), group: 0, expect: Validity::Valid, config }
                })
                .collect();
            let n = 1 + rng.below(6) as u32;
            let mut seen: Vec<usize> = (1..=n).flat_map(|i| shard(&tests, i, n)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..tests.len()).collect::<Vec<_>>(), "each test once, {n} shards");
            // Balanced: no shard exceeds the ideal by more than the longest test.
            let ideal: f64 = tests.iter().map(|t| t.expected_seconds()).sum::<f64>() / n as f64;
            let longest = tests.iter().map(|t| t.expected_seconds()).fold(0.0, f64::max);
            for i in 1..=n {
                let load: f64 = shard(&tests, i, n).iter().map(|&t| tests[t].expected_seconds()).sum();
                assert!(load <= ideal + longest, "shard {i}/{n}: {load} vs {ideal}");
            }
        }
    }
}
