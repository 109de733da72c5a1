//! `faultline test`'s configuration is checked before anything happens: a bad value exits 254
//! naming its flag, and nothing is installed, created or started (no store, no namespace).
//! Needs nothing: validation comes before the check for root.

use std::process::Command;

mod common;
use common::{text, Store};

/// Issue 10, item 7: these panicked after the cluster had started (or after the workload).
#[test]
fn bad_values_are_refused_before_any_side_effect() {
    let store = Store::new("refused");
    for (args, flag) in [
        (&["--time-limit=-1"][..], "--time-limit"),
        (&["--time-limit=NaN"], "--time-limit"),
        (&["--time-limit=inf"], "--time-limit"),
        (&["--nemesis-interval=NaN"], "--nemesis-interval"),
        (&["--nemesis-interval=inf"], "--nemesis-interval"),
        (&["--request-timeout=-1"], "--request-timeout"),
        (&["--start-timeout=-1"], "--start-timeout"),
        (&["--check-timeout=-1"], "--check-timeout"),
        (&["--check-timeout=NaN"], "--check-timeout"),
        (&["--rate=-1"], "--rate"),
        (&["--rate=NaN"], "--rate"),
        (&["--name=.."], "--name"),
        (&["--name=../elsewhere"], "--name"),
        (&["--partition=n1|n9"], "--partition"),
        (&["--nemesis=gremlins"], "--nemesis"),
        (&["--target=etcd", "--bug=stale-read"], "--bug"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_faultline")).arg("test").args(args).args(["--store", store.path()]).output().unwrap();
        assert_eq!(o.status.code(), Some(254), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(flag), "{args:?} names {flag}: {}", text(&o));
        assert!(!store.0.exists(), "{args:?}: nothing was created");
    }
}
