//! Faults against a real 5-node etcd cluster, as a user runs them: the leader isolated, killed
//! and paused; rules present during a partition and gone after its heal; nothing left after a
//! SIGTERM in the middle of a fault. Needs root, iproute2, iptables and etcd-server (as the
//! cluster tests).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;
use common::{nemesis_ops, started, stopped, text, windows, Op, OpType, Process, Store};
use history::Validity;

static SERIAL: Mutex<()> = Mutex::new(());

fn can_run() -> bool {
    common::can_run(&["ip", "iptables", "etcd"])
}

fn faultline(store: &Store, time_limit: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faultline"));
    c.args([
        "test",
        "--target",
        "etcd",
        "--nodes",
        "5",
        "--concurrency",
        "10",
        "--time-limit",
        time_limit,
        "--rate",
        "150",
        "--seed",
        "3",
        "--store",
        store.path(),
    ]);
    c.args(extra);
    c
}

fn namespaces_of(run_id: &str) -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&format!("fl-{run_id}-")))
        .map(str::to_string)
        .collect()
}

fn rules_in(namespace: &str) -> usize {
    let out = Command::new("ip").args(["netns", "exec", namespace, "iptables", "-w", "-S", "FAULTLINE"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("-A")).count()
}

#[test]
fn isolating_the_leader_elects_a_new_one_and_heals() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("leader");
    let mut child = faultline(&store, "24", &["--nemesis", "partition", "--partition", "primaries", "--nemesis-interval", "6"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Watch the rules while it runs: present during the partition, gone after the heal.
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    let mut rules_during = 0;
    let mut rules_after_heal = None;
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        let history = store.history();
        let ops = nemesis_ops(&history);
        if store.0.join("latest/test.json").is_file() {
            let id = store.run_id();
            let total: usize = namespaces_of(&id).iter().map(|ns| rules_in(ns)).sum();
            match ops.last().map(|o| o.f.as_str()) {
                Some("start-partition") => rules_during = rules_during.max(total),
                Some("stop-partition") if rules_after_heal.is_none() => rules_after_heal = Some(total),
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().unwrap();
    let out = reader.join().unwrap().join("\n");
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(rules_during > 0, "iptables rules were in place during the partition");
    assert_eq!(rules_after_heal, Some(0), "the heal removed every rule faultline added");

    let history = store.history();
    let ops = nemesis_ops(&history);
    let start = ops.iter().find(|o| o.f == "start-partition").expect("a partition happened");
    let stop = ops.iter().find(|o| o.f == "stop-partition").expect("and was healed");
    // The leader at the start was cut off from everyone…
    let old_leader = started(start).leaders.first().cloned().expect("a leader was known");
    let grudge: nemesis::grudge::Grudge = serde_json::from_value(started(start).detail["grudge"].clone()).unwrap();
    assert_eq!(grudge[&old_leader].len(), 4, "{grudge:?}");
    // …and before the heal the majority side had elected another.
    let leaders = stopped(stop).leaders_before_heal;
    assert!(leaders.iter().any(|l| *l != old_leader), "a new leader on the majority side: {leaders:?} (old {old_leader})");
    // Requests that went to the isolated node while it was cut off did not succeed as writes.
    let (t0, t1) = (start.time, stop.time);
    let to_isolated: Vec<&Op> = history
        .iter()
        .filter(|o| o.node.as_deref() == Some(old_leader.as_str()) && o.kind != OpType::Invoke && o.f != "read")
        .filter(|o| o.time > t0 + 2_000_000_000 && o.time < t1)
        .collect();
    assert!(!to_isolated.is_empty(), "clients kept trying the isolated node");
    assert!(to_isolated.iter().all(|o| o.kind != OpType::Ok), "no write succeeded through the isolated node");
    assert!(to_isolated.iter().any(|o| o.kind == OpType::Info), "its writes ended indeterminate");
    // Service returned after the heal, and the history is linearizable.
    let results = store.results();
    let window = &windows(&results)[0];
    assert!(window.heal_to_first_ok_s.is_some(), "{window:?}");
    assert_eq!(results.valid, Validity::Valid, "{out}");
}

#[test]
fn killing_and_pausing_the_leader_is_survived() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("kill-pause");
    let o = faultline(
        &store,
        "24",
        &["--nemesis", "kill,pause", "--kill-targets", "primaries", "--pause-targets", "primaries", "--nemesis-interval", "4"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let history = store.history();
    let ops = nemesis_ops(&history);
    let faults: Vec<&str> = ops.iter().map(|o| o.f.as_str()).filter(|f| f.starts_with("start-")).collect();
    assert!(faults.len() >= 2, "{faults:?}");
    for op in ops.iter().filter(|o| o.f.starts_with("start-")) {
        // Each fault hit the node that led when it started.
        let record = started(op);
        assert_eq!(record.nodes, record.leaders, "{op:?}");
    }
    assert_eq!(store.results().valid, Validity::Valid);
    // After the final recovery, reads of every key succeeded.
    let last_ok_read = history.iter().rev().find(|o| o.f == "read" && o.kind == OpType::Ok);
    assert!(last_ok_read.is_some());
}

#[test]
fn sigterm_during_a_fault_leaves_nothing_behind() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for fault in ["pause", "partition"] {
        let store = Store::new(&format!("ft-term-{fault}"));
        let mut child = faultline(&store, "60", &["--nemesis", fault, "--nemesis-interval", "2"]).stdout(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !store.history().iter().any(|o| o.f == format!("start-{fault}")) {
            assert!(Instant::now() < deadline, "no {fault} started");
            std::thread::sleep(Duration::from_millis(100));
        }
        let id = store.run_id();
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(2), "interrupted: unknown");
        assert!(namespaces_of(&id).is_empty(), "{fault}: namespaces gone");
        // No node process (paused or not) survives: their command lines name the run's scratch dir.
        let survivors: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.contains(&format!("faultline-{id}/")))
            .collect();
        assert_eq!(survivors, Vec::<String>::new(), "{fault}");
    }
}

#[test]
fn latency_slows_the_chosen_nodes_and_is_healed() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("latency");
    let o = faultline(&store, "14", &["--nemesis", "latency", "--latency-ms", "200", "--jitter-ms", "0", "--nemesis-interval", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let history = store.history();
    let ops = nemesis_ops(&history);
    let start = ops.iter().find(|o| o.f == "start-latency").expect("a latency fault");
    let stop = ops.iter().find(|o| o.f == "stop-latency").expect("healed");
    let slow = started(start).nodes;
    // The consumer really held packets for every slowed node.
    let undone = stopped(stop).undone;
    for node in &slow {
        assert!(undone["delayed_packets"][node].as_u64().unwrap() > 10, "{undone}");
    }
    // Ops through a slowed node took at least the delay (request packets into it were held).
    let (t0, t1) = (start.time, stop.time);
    let mut invoked: std::collections::HashMap<Process, u64> = Default::default();
    let mut slow_latencies = Vec::new();
    for op in &history {
        match op.kind {
            OpType::Invoke => {
                invoked.insert(op.process.clone(), op.time);
            }
            OpType::Ok => {
                let began = invoked[&op.process];
                // Only ops wholly inside the fault: at the heal, held packets are let go at once,
                // and the stop op is recorded just after the heal has happened.
                if began > t0 && op.time + 100_000_000 < t1 && op.node.as_ref().is_some_and(|n| slow.contains(n)) {
                    slow_latencies.push(op.time - began);
                }
            }
            _ => {}
        }
    }
    assert!(!slow_latencies.is_empty());
    assert!(slow_latencies.iter().all(|&ns| ns >= 200_000_000), "every ok op through a slowed node took >= 200 ms");
    assert_eq!(store.results().valid, Validity::Valid);
}

/// etcd read with `serializable: true` (the `etcd-serializable` target) answers reads from a
/// node's own state: cut a node off and it serves stale values, which the checker must find.
/// Observed invalid on every seed tried (6 and 17 failing keys in 20 s); two attempts allowed.
#[test]
fn serializable_reads_are_stale_under_partition() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut outputs = Vec::new();
    for seed in ["1", "2"] {
        let store = Store::new(&format!("serializable-{seed}"));
        let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args("test --target etcd-serializable --nemesis partition --partition one,halves --nemesis-interval 3".split(' '))
            .args(["--time-limit", "20", "--rate", "150", "--seed", seed, "--store", store.path()])
            .output()
            .unwrap();
        if o.status.code() == Some(1) {
            let results = store.results();
            let lin = results.checks.linearizable().expect("checked");
            let (_, failure) = lin.failures().next().expect("a failing key");
            assert_eq!(failure.op.f, "read", "a stale read is what cannot be linearized: {:?}", failure.op);
            return;
        }
        outputs.push(text(&o));
    }
    panic!("serializable reads were not caught in 2 runs:\n{}", outputs.join("\n---\n"));
}

/// An `etcd` of the test's own (a script that runs the real one) in a directory beside the
/// store, so that a test can take it away mid-run: its directory and its path.
fn wrapped_etcd(store: &Store) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = store.0.with_extension("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("etcd");
    std::fs::write(&script, "#!/bin/sh\nexec etcd \"$@\"\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (dir, script)
}

/// Issue 10, item 9: a restart that could not be done (the binary is gone) was recorded as
/// `restarted`. Now the stop op carries the error, the final heal says it failed, and the
/// verdict is unknown: the cluster could not be brought back for the final reads.
#[test]
fn a_restart_that_fails_is_recorded_as_failed() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("restart-fails");
    let (dir, script) = wrapped_etcd(&store);
    let mut child = faultline(&store, "12", &["--nemesis", "kill", "--kill-targets", "one", "--nemesis-interval", "3"])
        .arg("--etcd-binary")
        .arg(&script)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !lines.next().expect("the run prints until its cluster is ready").unwrap().starts_with("cluster ready") {}
    std::fs::remove_file(&script).unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status.code(), Some(2), "unknown: {}", rest.join("\n"));
    let history = store.history();
    let stop = history.iter().find(|o| o.f == "stop-kill").expect("a kill was undone");
    let error = stopped(stop).error.expect("the failed restart is recorded");
    assert!(error.contains("exited") || error.contains("cannot start"), "{error}");
    let recover = history.iter().find(|o| o.f == "recover").expect("the final heal");
    let recovered: history::faults::Recovered = serde_json::from_value(recover.value.clone()).unwrap();
    assert!(!recovered.errors.is_empty(), "{recovered:?}");
    assert_eq!(store.results().valid, Validity::Unknown);
}

/// Issue 10, item 8: with the store on a full disk the run went on for 16 s and ended with no
/// verdict. Now the first failed write stops the workload; the run heals, checks the history it
/// kept in memory, prints the verdict and says the stored history is incomplete (exit 255).
#[test]
fn a_full_disk_stops_the_workload_and_the_verdict_is_still_given() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("full-disk");
    std::fs::create_dir_all(&store.0).unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=200k", "tmpfs", store.path()]).status().unwrap();
    assert!(mounted.success(), "a 200 KiB tmpfs");
    struct Unmount<'a>(&'a str);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(store.path());
    let started = Instant::now();
    // The bundled node: its logs are small, so the history is what fills the disk.
    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", "--nemesis", "none", "--rate", "0", "--time-limit", "40", "--seed", "1", "--store", store.path()])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(255), "{out}");
    assert!(started.elapsed() < Duration::from_secs(30), "stopped at the first failed write, not after 40 s: {out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(out.contains("valid: the history is linearizable"), "the verdict of what was kept in memory: {out}");
    assert!(out.contains("the stored history is incomplete"), "{out}");
}

/// Issue 10, item 12: a signal during the final recovery wait was ignored for up to
/// --start-timeout. A node that cannot come back keeps the run waiting; SIGTERM ends the wait
/// at once (the run still tears down and answers `unknown`).
#[test]
fn a_signal_ends_the_recovery_wait_at_once() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("recovery-wait");
    let (dir, script) = wrapped_etcd(&store);
    let mut child =
        faultline(&store, "6", &["--nemesis", "kill", "--kill-targets", "one", "--nemesis-interval", "2", "--start-timeout", "120"])
            .arg("--etcd-binary")
            .arg(&script)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !lines.next().expect("the run prints until its cluster is ready").unwrap().starts_with("cluster ready") {}
    std::fs::remove_file(&script).unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    // The final heal is recorded (and flushed) before the wait for the nodes begins.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !store.history().iter().any(|o| o.f == "recover") {
        assert!(Instant::now() < deadline, "no final heal");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let signalled = Instant::now();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(signalled.elapsed() < Duration::from_secs(15), "stopped waiting at once, not after --start-timeout: {:?}", signalled.elapsed());
    assert_eq!(status.code(), Some(2));
    assert!(namespaces_of(&store.run_id()).is_empty(), "and cleaned up");
}

/// The set and counter workloads against etcd under partitions and kills: valid (issue 12).
#[test]
fn etcd_set_and_counter_are_valid_under_partition_and_kill() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for workload in ["set", "counter"] {
        let store = Store::new(&format!("etcd-{workload}"));
        let o =
            faultline(&store, "15", &["--workload", workload, "--nemesis", "partition,kill", "--nemesis-interval", "3"]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{workload}: {}", text(&o));
        assert!(store.results().ops.ok > 200, "{workload}: {:?}", store.results().ops);
    }
}
