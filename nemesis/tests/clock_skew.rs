//! Clock skew on a real libc program in its own namespace: the node's clock moves by the bump
//! and comes back after the reset, while the machine's clock does not move. Needs root and
//! libfaketime (scripts/test.sh installs it).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nemesis::clock::{ClockFile, LIBFAKETIME};
use nemesis::{ClusterNet, NodeProcess, RunId};

fn can_run() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")));
    let ok = root && std::path::Path::new(LIBFAKETIME).exists();
    if !ok {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "clock test cannot run under CI: needs root and libfaketime");
        eprintln!("SKIPPED: the clock test needs root and libfaketime");
    }
    ok
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The node prints its clock (seconds) every 100 ms; the last value it printed.
fn node_clock(log: &std::path::Path) -> i64 {
    std::thread::sleep(Duration::from_millis(600));
    let text = std::fs::read_to_string(log).unwrap();
    text.lines().last().and_then(|l| l.trim().parse().ok()).expect("the node printed its clock")
}

#[test]
fn a_bump_moves_only_the_nodes_clock_and_a_reset_brings_it_back() {
    if !can_run() {
        return;
    }
    let run = RunId::fresh();
    let net = ClusterNet::create(run.clone(), 1).unwrap();
    std::fs::create_dir_all(run.scratch_dir()).unwrap();
    let clock = ClockFile::create(&run.scratch_dir().join("n1.clock")).unwrap();
    let log = run.scratch_dir().join("n1.log");
    let script = "while :; do date +%s; sleep 0.1; done".to_string();
    let mut node = NodeProcess::spawn(&net.nodes[0].namespace, "sh", &["-c".into(), script], &clock.env(), &log).unwrap();

    assert!((node_clock(&log) - now()).abs() <= 1, "no offset yet");
    clock.set_offset_ms(100_000).unwrap();
    let skewed = node_clock(&log) - now();
    assert!((99..=101).contains(&skewed), "the node is 100 s ahead: {skewed}");
    clock.set_offset_ms(-30_000).unwrap();
    let behind = node_clock(&log) - now();
    assert!((-31..=-29).contains(&behind), "the node is 30 s behind: {behind}");
    clock.set_offset_ms(0).unwrap();
    assert!((node_clock(&log) - now()).abs() <= 1, "back after the reset");
    node.kill();
    drop(net);
}
