//! The bank workload: transfers between accounts in transactions, and reads of every account.
//! etcd's txns keep the total under partitions, kills and pauses; the bundled node's tables do
//! too, and its `torn-txn` bug (a transaction as one round per key) is caught. Needs root,
//! iproute2, iptables and etcd-server.

use std::process::Command;
use std::sync::Mutex;

mod common;
use common::{detail, text, Store};
use history::Validity;

static SERIAL: Mutex<()> = Mutex::new(());

fn run_bank(store: &Store, args: &[&str]) -> (Option<i32>, String, checkers::bank::BankResult) {
    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", "--workload", "bank", "--seed", "5", "--nemesis-interval", "3", "--store", store.path()])
        .args(args)
        .output()
        .unwrap();
    let bank = detail(&store.results(), |r| match &r.detail {
        checkers::CheckDetail::Bank(b) => Some(b.clone()),
        _ => None,
    })
    .unwrap_or_else(|| panic!("no bank result: {}", text(&o)));
    (o.status.code(), text(&o), bank)
}

#[test]
fn etcd_transfers_keep_the_total_under_partition_kill_and_pause() {
    if !common::can_run(&["ip", "iptables", "etcd"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("bank-etcd");
    let (code, out, bank) = run_bank(&store, &["--target", "etcd", "--nemesis", "partition,kill,pause", "--time-limit", "25"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(bank.reads > 100 && bank.transfers[0] > 100, "{bank:?}");
    assert_eq!(bank.bad_count, 0);
    assert!(out.contains("valid: bank: all"), "{out}");
}

#[test]
fn the_bundled_nodes_tables_keep_the_total_and_its_torn_txn_bug_is_caught() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("bank-bundled");
    let (code, out, bank) = run_bank(&store, &["--nemesis", "partition,kill", "--time-limit", "15"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(bank.reads > 100 && bank.transfers[0] > 100, "{bank:?}");

    let store = Store::new("bank-torn");
    let (code, out, bank) = run_bank(&store, &["--bug", "torn-txn", "--nemesis", "partition,kill", "--time-limit", "15"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(store.results().valid, Validity::Invalid);
    let bad = &bank.bad_reads[0];
    assert_ne!(bad.sum, 100, "{bad:?}");
    assert_eq!(bad.balances.iter().sum::<i64>(), bad.sum);
    assert!(out.contains("do not sum to 100"), "{out}");
    let report = std::fs::read_to_string(store.0.join("latest/report.html")).unwrap();
    assert!(report.contains("Bank: reads that break the invariant"), "the report lists the reads");
}
