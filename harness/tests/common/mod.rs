//! Helpers shared by the harness's integration tests: who may run them, scratch stores, output.

#![allow(dead_code, unused_imports)]

use std::path::PathBuf;
use std::process::{Command, Output};

use checkers::availability::WindowAvailability;
pub use harness::config::TestConfig;
use history::faults::{FaultStarted, FaultStopped};
pub use history::{Op, OpType, Process};
use results::{read_record, RunRecord, TestRecord};

/// Whether this process runs as root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
}

/// Whether the tests that need root and `tools` can run. Under CI a missing piece fails the
/// test; elsewhere it says it skipped.
pub fn can_run(tools: &[&str]) -> bool {
    let root = is_root();
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !Command::new("sh").args(["-c", &format!("command -v {t}")]).output().is_ok_and(|o| o.status.success()))
        .collect();
    if root && missing.is_empty() {
        return true;
    }
    let why = if root { format!("missing: {}", missing.join(", ")) } else { "not root".to_string() };
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "cluster tests cannot run under CI: {why}");
    eprintln!("SKIPPED: these tests need root and {} ({why}); scripts/test.sh installs them", tools.join(", "));
    false
}

/// A scratch `--store` directory, removed when the test ends (even on failure).
pub struct Store(pub PathBuf);

impl Store {
    /// A fresh store for one test.
    pub fn new(name: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("faultline-it-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Store(dir)
    }

    /// Its path, for `--store`.
    pub fn path(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }

    /// The newest run's test.json.
    pub fn test(&self) -> TestRecord<TestConfig> {
        read_record(&self.0.join("latest/test.json")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The newest run's results.json.
    pub fn results(&self) -> RunRecord {
        read_record(&self.0.join("latest/results.json")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The newest run's id.
    pub fn run_id(&self) -> String {
        self.test().run_id
    }

    /// The newest run's history so far (the file is flushed every second; a line being
    /// written is left out).
    pub fn history(&self) -> Vec<Op> {
        let text = std::fs::read_to_string(self.0.join("latest/history.jsonl")).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

/// The fault windows of a run's results, from its availability checker.
pub fn windows(results: &RunRecord) -> Vec<WindowAvailability> {
    results.checks.availability().map(|a| a.windows.clone()).unwrap_or_default()
}

/// The value of a `start-` op.
pub fn started(op: &Op) -> FaultStarted {
    serde_json::from_value(op.value.clone()).unwrap_or_else(|e| panic!("{e}: {:?}", op.value))
}

/// The value of a `stop-` op.
pub fn stopped(op: &Op) -> FaultStopped {
    serde_json::from_value(op.value.clone()).unwrap_or_else(|e| panic!("{e}: {:?}", op.value))
}

/// The nemesis ops of a history.
pub fn nemesis_ops(history: &[Op]) -> Vec<&Op> {
    history.iter().filter(|o| o.process == Process::Nemesis).collect()
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// What the seed decides: each invoke's operation, key and argument, in history order.
pub fn invocations(history: &[Op]) -> Vec<(String, Option<String>, serde_json::Value)> {
    history
        .iter()
        .filter(|o| o.is_client() && o.kind == OpType::Invoke)
        .map(|o| (o.f.clone(), o.key.as_ref().map(|k| k.to_string()), o.value.clone()))
        .collect()
}

/// Each fault's kind, nodes and what it did, in order (not its timing or leaders).
pub fn schedule(history: &[Op]) -> Vec<(String, Vec<String>, serde_json::Value)> {
    nemesis_ops(history)
        .into_iter()
        .filter(|o| o.f.starts_with("start-"))
        .map(|o| {
            let s = started(o);
            (o.f.clone(), s.nodes, serde_json::Value::Object(s.detail))
        })
        .collect()
}

/// The first checker result of a run (its parts, when composed) that `pick` takes.
pub fn detail<T>(results: &RunRecord, pick: impl Fn(&checkers::CheckResult) -> Option<T>) -> Option<T> {
    results.checks.parts().into_iter().find_map(|(_, p)| pick(p))
}
