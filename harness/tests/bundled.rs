//! The bundled KV node under faults: correct, it stays linearizable; with each bug switched on,
//! the fault that exposes it makes the checker find a violation, and results.json names the
//! failing op. Needs root, iproute2 and iptables (and libfaketime for the clock bug).

use std::process::Command;
use std::sync::Mutex;

mod common;
use common::{text, windows, Store};
use history::Validity;
use results::RunRecord;

static SERIAL: Mutex<()> = Mutex::new(());

/// Exit code, results.json, output, and the run's report.html.
fn run(name: &str, extra: &[&str]) -> (Option<i32>, RunRecord, String, String) {
    run_seeded(name, 2, extra)
}

fn run_seeded(name: &str, seed: u64, extra: &[&str]) -> (Option<i32>, RunRecord, String, String) {
    let store = Store::new(name);
    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", "--nodes", "5", "--concurrency", "10", "--rate", "150", "--seed", &seed.to_string(), "--store", store.path()])
        .args(extra)
        .output()
        .unwrap();
    let report = std::fs::read_to_string(store.0.join("latest/report.html")).unwrap_or_default();
    (o.status.code(), store.results(), text(&o), report)
}

#[test]
fn the_correct_node_is_linearizable_under_partition_kill_and_pause() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (code, results, out, _) = run("correct", &["--nemesis", "partition,kill,pause", "--nemesis-interval", "3", "--time-limit", "24"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(results.valid, Validity::Valid);
    let faults: Vec<String> = windows(&results).into_iter().map(|w| w.window.fault).collect();
    assert!(faults.len() >= 3, "{faults:?}");
    assert!(results.ops.ok > 500);
}

/// Runs a bug mode under its fault and checks the checker caught it and names the failing op.
fn caught(bug: &str, fault: &str, extra: &[&str]) {
    caught_within(bug, fault, extra, 1)
}

/// The same, for a bug that a run exposes only with some probability: up to `attempts` runs
/// with seeds 2, 3, … (each seed is its own fault schedule), each of which must be decided
/// (valid or invalid, never unknown), and one must be invalid.
fn caught_within(bug: &str, fault: &str, extra: &[&str], attempts: usize) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut args = vec!["--bug", bug, "--nemesis", fault, "--nemesis-interval", "3", "--time-limit", "30"];
    args.extend_from_slice(extra);
    let mut tries = 0;
    let (code, results, out, report) = loop {
        tries += 1;
        let (code, results, out, report) = run_seeded(bug, 1 + tries as u64, &args);
        assert!(code == Some(0) || code == Some(1), "{bug}: run {tries} was not decided:\n{out}");
        if code == Some(1) || tries == attempts {
            break (code, results, out, report);
        }
        eprintln!("{bug}: not exposed in run {tries} of {attempts}; running again");
    };
    assert_eq!(code, Some(1), "{bug} under {fault} should be invalid (in {attempts} run(s)):\n{out}");
    assert_eq!(results.valid, Validity::Invalid);
    let lin = results.checks.linearizable().expect("a linearizability result");
    let (failing, failure) = lin.failures().next().expect("a failing key");
    let op = &failure.op;
    assert!(out.contains("no linearization can include"), "{out}");
    // The report shows the same failure: the key's section and its red op.
    let key = failing.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
    assert!(report.contains(r#"<p class="verdict invalid">"#), "report verdict");
    assert!(report.contains(&format!(r#"<section class="failure" id="failure-key-{key}">"#)), "the failing key {key} has its section");
    assert!(report.contains(&format!("history index {}", op.invoke_index)), "the failing op is named");
    assert!(report.contains(r#"<g class="op culprit">"#));
}

#[test]
fn stale_reads_are_caught_under_partition() {
    if common::can_run(&["ip", "iptables"]) {
        caught("stale-read", "partition", &[]);
    }
}

#[test]
fn a_too_small_quorum_is_caught_under_partition() {
    if common::can_run(&["ip", "iptables"]) {
        caught("small-quorum", "partition", &[]);
    }
}

#[test]
fn acknowledging_before_fsync_is_caught_under_kill() {
    if common::can_run(&["ip", "iptables"]) {
        // Every kill hits every node, so each loses its last second of promises and accepts;
        // the loss shows when a later read meets a key whose last acknowledged write was lost
        // (mostly the final reads), which a run of 30 s gets with high but not certain
        // probability (10/10 in the bug-power bench, but one miss seen on CI): up to three.
        caught_within("lazy-fsync", "kill", &["--kill-targets", "all"], 3);
    }
}

/// A lease read goes stale only when the holder's clock jumps back while it holds a lease, and
/// a read lands on it after another node has written: strobing clocks (a jump back every
/// 100 ms) expose it in most runs of 30 s (see the bug-power bench), so this allows four, each
/// with its own seed.
#[test]
fn lease_reads_are_caught_under_clock_skew() {
    // Keys live long enough (400 ops, about 2.7 s) to change hands between lease holders.
    if common::can_run(&["ip", "iptables"]) {
        caught_within("lease-read", "clock", &["--clock-mode", "strobe", "--clock-skew-ms", "3000", "--ops-per-key", "400"], 4);
    }
}

#[test]
fn plain_faultline_test_runs_the_bundled_cluster_under_partition_and_kill() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // What a new user types first, with only the time and store shortened.
    let store = Store::new("plain");
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["test", "--time-limit", "12", "--store", store.path()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let test = store.test();
    assert_eq!(test.config.target, targets::TargetKind::Bundled);
    assert_eq!(test.config.nodes, 5);
    let faults: Vec<String> = windows(&store.results()).into_iter().map(|w| w.window.fault).collect();
    assert!(!faults.is_empty() && faults.iter().all(|f| f == "partition" || f == "kill"), "{faults:?}");
    // Its report, with the fault windows shaded and labelled, and the store's index listing it.
    let report = std::fs::read_to_string(store.0.join("latest/report.html")).unwrap();
    assert!(report.contains(r#"<p class="verdict valid">"#));
    assert_eq!(report.matches(r#"<g class="fault">"#).count(), faults.len(), "one shaded window per fault");
    assert!(report.contains(&format!(">{}</text></g>", faults[0])));
    assert!(report.contains(&format!(r#"<pre class="rerun">{}"#, test.rerun)));
    let index = std::fs::read_to_string(store.0.join("index.html")).unwrap();
    assert!(index.contains(r#"/report.html">report</a>"#), "{index}");
}

#[test]
fn unknown_bugs_are_refused() {
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["test", "--bug", "gremlins"]).output().unwrap();
    assert_eq!(o.status.code(), Some(254), "{}", text(&o));
    assert!(text(&o).contains("stale-read, lazy-fsync, small-quorum, lease-read, torn-txn"), "{}", text(&o));
}

/// The `restart` fault and the `rw-register` workload, each added through its seam as one
/// file and a registry entry, work end to end: every restart window names the nodes it
/// crashed and restarted, none failed, and the correct node stays linearizable under them.
#[test]
fn restarts_under_the_rw_register_workload_are_survived() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let args: Vec<&str> =
        "--workload rw-register --nemesis restart --kill-targets majority --nemesis-interval 2 --time-limit 12".split(' ').collect();
    let (code, results, out, _) = run("restart", &args);
    assert_eq!(code, Some(0), "{out}");
    let windows = windows(&results);
    assert!(windows.len() >= 2, "{windows:?}");
    for w in &windows {
        assert_eq!(w.window.fault, "restart");
        let started: history::faults::FaultStarted = serde_json::from_value(w.window.detail.clone()).unwrap();
        assert_eq!(started.nodes.len(), 3, "a majority of 5: {started:?}");
        assert_eq!(started.error, None, "every node came back: {started:?}");
    }
    let lin = results.checks.linearizable().expect("checked");
    assert_eq!(lin.model, "register", "rw-register is checked with the register model");
    assert!(results.ops.ok > 300, "{:?}", results.ops);
    // Its history has reads and writes only.
    let stats = results.checks.parts().into_iter().find(|(n, _)| *n == "stats").map(|(_, r)| r.detail.clone());
    let Some(checkers::CheckDetail::Stats(stats)) = stats else { panic!("a stats result") };
    assert_eq!(stats.by_f.keys().cloned().collect::<Vec<_>>(), vec!["read".to_string(), "write".to_string()]);
}

/// The set and counter workloads against the correct node under partitions and kills: valid.
#[test]
fn set_and_counter_are_valid_under_partition_and_kill() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for workload in ["set", "counter"] {
        let args: Vec<String> = format!("--workload {workload} --nemesis partition,kill --nemesis-interval 3 --time-limit 15")
            .split(' ')
            .map(String::from)
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, results, out, _) = run(workload, &args);
        assert_eq!(code, Some(0), "{workload}: {out}");
        assert!(results.ops.ok > 200, "{workload}: {:?}", results.ops);
        assert!(!windows(&results).is_empty(), "{workload}: faults happened");
    }
}

/// `lazy-fsync` acknowledges before its state is on disk: killing every node loses
/// acknowledged adds, which the set checker names.
#[test]
fn lazy_fsync_loses_acknowledged_set_elements_under_kill() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let args: Vec<&str> =
        "--workload set --bug lazy-fsync --nemesis kill --kill-targets all --nemesis-interval 3 --time-limit 20".split(' ').collect();
    let (code, results, out, _) = run("lazy-fsync-set", &args);
    assert_eq!(code, Some(1), "{out}");
    let detail = results.checks.parts().into_iter().find(|(n, _)| *n == "set").map(|(_, r)| r.detail.clone());
    let Some(checkers::CheckDetail::Set(set)) = detail else { panic!("a set result") };
    assert!(!set.keys[0].lost.is_empty(), "{:?}", set.keys[0]);
}
