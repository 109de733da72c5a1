//! "Run it again": the command stored in test.json repeats the run — the same operations in
//! the same order and the same fault schedule — because it is generated from the config, every
//! option written out. Against the bundled cluster (no leader, so the faults' choices depend on
//! the seed alone). Needs root, iproute2 and iptables.

use std::process::Command;

mod common;
use common::{invocations, schedule, text, Store};

#[test]
fn the_stored_rerun_command_repeats_the_operations_and_the_faults() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let first_store = Store::new("rerun-1");
    let args = [
        "test",
        "--time-limit",
        "8",
        "--nemesis",
        "partition,kill,pause",
        "--nemesis-interval",
        "1.5",
        "--partition",
        "one,halves,bridge",
        "--kill-targets",
        "one,majority",
        "--seed",
        "77",
        "--rate",
        "80",
        "--ops-per-key",
        "30",
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(args).args(["--store", first_store.path()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let test = first_store.test();
    let first = first_store.history();

    // Run the stored command as a user would paste it, with only the store changed.
    let second_store = Store::new("rerun-2");
    let mut words = shlex::split(&test.rerun).expect("a shell command");
    assert_eq!(&words[..2], ["faultline", "test"]);
    words.retain(|w| !w.starts_with("--store="));
    let o =
        Command::new(env!("CARGO_BIN_EXE_faultline")).args(&words[1..]).arg(format!("--store={}", second_store.path())).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let second = second_store.history();
    assert_eq!(second_store.test().config, test::with_store(test.config.clone(), second_store.path()));

    // The same operations in the same order: as many as both runs got through in 8 s.
    let (a, b) = (invocations(&first), invocations(&second));
    let common = a.len().min(b.len());
    assert!(common > 300, "{} and {} ops", a.len(), b.len());
    assert_eq!(a[..common], b[..common], "the same sequence of operations");
    // The same faults, on the same nodes, doing the same things.
    let (fa, fb) = (schedule(&first), schedule(&second));
    assert!(fa.len() >= 2, "{fa:?}");
    let n = fa.len().min(fb.len());
    assert_eq!(fa[..n], fb[..n]);
    // And the runs differ from a run with another seed (the comparison above can fail).
    let third_store = Store::new("rerun-3");
    let other: Vec<&str> = args.iter().map(|a| if *a == "77" { "78" } else { a }).collect();
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(&other).arg("--store").arg(third_store.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = invocations(&third_store.history());
    let n = common.min(c.len());
    assert_ne!(a[..n], c[..n], "another seed, other operations");
}

mod test {
    use super::common::TestConfig;

    /// A config with another store (the only difference between a run and its rerun here).
    pub fn with_store(config: TestConfig, store: &str) -> TestConfig {
        TestConfig { store: store.into(), ..config }
    }
}
