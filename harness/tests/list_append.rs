//! The list-append workload and the Elle-style checker, end to end: etcd's transactions stay
//! strictly serializable under partitions, kills and pauses; the bundled node's tables do too,
//! and its `torn-txn` bug (a transaction as one round per micro-op) is caught and classified,
//! drawn in the report, and found again by `faultline check --checker elle` on the history.
//! Needs root, iproute2, iptables and etcd-server.

use std::process::Command;
use std::sync::Mutex;

mod common;
use common::{detail, text, Store};
use history::Validity;

static SERIAL: Mutex<()> = Mutex::new(());

fn run(store: &Store, args: &[&str]) -> (Option<i32>, String, checkers::elle::ElleResult) {
    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", "--workload", "list-append", "--seed", "7", "--nemesis-interval", "3", "--rate", "200", "--store", store.path()])
        .args(args)
        .output()
        .unwrap();
    let elle = detail(&store.results(), |r| match &r.detail {
        checkers::CheckDetail::ListAppend(l) => Some(l.clone()),
        _ => None,
    })
    .unwrap_or_else(|| panic!("no list-append result: {}", text(&o)));
    (o.status.code(), text(&o), elle)
}

#[test]
fn etcd_transactions_are_strictly_serializable_under_partition_kill_and_pause() {
    if !common::can_run(&["ip", "iptables", "etcd"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("la-etcd");
    let (code, out, elle) = run(&store, &["--target", "etcd", "--nemesis", "partition,kill,pause", "--time-limit", "25"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(elle.model, checkers::elle::ConsistencyModel::StrictSerializable);
    assert!(elle.txns[0] > 1000, "{:?}", elle.txns);
    assert!(elle.counts.is_empty(), "{:?}", elle.counts);
    assert!(out.contains("valid: list-append as strict-serializable: no anomalies"), "{out}");
    assert!(out.contains("faults: 3 windows") || out.contains("faults: 4 windows") || out.contains("faults: 5 windows"), "{out}");
}

#[test]
fn the_bundled_nodes_tables_are_serializable_and_its_torn_txn_bug_is_caught() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("la-bundled");
    let (code, out, elle) = run(&store, &["--nemesis", "partition,kill", "--time-limit", "12"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(elle.txns[0] > 500 && elle.counts.is_empty(), "{elle:?}");

    let store = Store::new("la-torn");
    let (code, out, elle) = run(&store, &["--bug", "torn-txn", "--nemesis", "none", "--time-limit", "10"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(store.results().valid, Validity::Invalid);
    // Interleaved rounds: some transaction saw part of another's appends.
    let cycles: Vec<&checkers::elle::Anomaly> = elle.anomalies.iter().filter(|a| !a.cycle.is_empty()).collect();
    assert!(!cycles.is_empty(), "{:?}", elle.counts);
    for a in &cycles {
        assert!(a.prohibited);
        assert_eq!(a.cycle.len(), a.txns.len());
        assert!(a.explanation.last().unwrap().contains("a cycle"), "{:?}", a.explanation);
    }
    assert!(out.contains("forbidden: "), "{out}");
    let report = std::fs::read_to_string(store.0.join("latest/report.html")).unwrap();
    assert!(report.contains("Transactional anomalies") && report.contains("<svg class=\"cycle\""), "the report draws the cycles");

    // The history alone gives the same verdict, and read committed still forbids the cycles
    // without anti-dependencies (if any were found) or allows the rest.
    let history = store.0.join("latest/history.jsonl");
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["check", "--checker", "elle"]).arg(&history).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let first = &elle.prohibited[0];
    assert!(text(&o).contains(first.as_str()), "{}", text(&o));
}
