//! Faults against a real 5-node etcd cluster, as a user runs them: the leader isolated, killed
//! and paused; rules present during a partition and gone after its heal; nothing left after a
//! SIGTERM in the middle of a fault. Needs root, iproute2, iptables and etcd-server (as the
//! cluster tests).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{text, Store};

static SERIAL: Mutex<()> = Mutex::new(());

fn can_run() -> bool {
    common::can_run(&["ip", "iptables", "etcd"])
}

fn faultline(store: &Store, time_limit: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faultline"));
    c.args(["test", "--target", "etcd", "--nodes", "5", "--concurrency", "10", "--time-limit", time_limit, "--rate", "150", "--seed", "3", "--store", store.path()]);
    c.args(extra);
    c
}

fn nemesis_ops(history: &[Value]) -> Vec<&Value> {
    history.iter().filter(|o| o["process"] == "nemesis").collect()
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
        if let Ok(test) = std::fs::read_to_string(store.0.join("latest/test.json")) {
            let id = serde_json::from_str::<Value>(&test).unwrap()["run_id"].as_str().unwrap().to_string();
            let total: usize = namespaces_of(&id).iter().map(|ns| rules_in(ns)).sum();
            match ops.last().and_then(|o| o["f"].as_str()) {
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
    let start = ops.iter().find(|o| o["f"] == "start-partition").expect("a partition happened");
    let stop = ops.iter().find(|o| o["f"] == "stop-partition").expect("and was healed");
    // The leader at the start was cut off from everyone…
    let old_leader = start["value"]["leaders"][0].as_str().expect("a leader was known").to_string();
    let grudge = &start["value"]["grudge"];
    assert_eq!(grudge[&old_leader].as_array().unwrap().len(), 4, "{grudge}");
    // …and before the heal the majority side had elected another.
    let leaders: Vec<&str> = stop["value"]["leaders_before_heal"].as_array().unwrap().iter().filter_map(|l| l.as_str()).collect();
    assert!(leaders.iter().any(|l| *l != old_leader), "a new leader on the majority side: {leaders:?} (old {old_leader})");
    // Requests that went to the isolated node while it was cut off did not succeed as writes.
    let (t0, t1) = (start["time"].as_u64().unwrap(), stop["time"].as_u64().unwrap());
    let to_isolated: Vec<&Value> = history
        .iter()
        .filter(|o| o["node"] == old_leader.as_str() && o["type"] != "invoke" && o["f"] != "read")
        .filter(|o| o["time"].as_u64().unwrap() > t0 + 2_000_000_000 && o["time"].as_u64().unwrap() < t1)
        .collect();
    assert!(!to_isolated.is_empty(), "clients kept trying the isolated node");
    assert!(to_isolated.iter().all(|o| o["type"] != "ok"), "no write succeeded through the isolated node");
    assert!(to_isolated.iter().any(|o| o["type"] == "info"), "its writes ended indeterminate");
    // Service returned after the heal, and the history is linearizable.
    let results = store.json("results.json");
    let window = &results["nemesis"]["windows"][0];
    assert!(window["heal_to_first_ok_s"].as_f64().is_some(), "{window}");
    assert_eq!(results["valid"], "valid", "{out}");
}

#[test]
fn killing_and_pausing_the_leader_is_survived() {
    if !can_run() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("kill-pause");
    let o = faultline(&store, "24", &["--nemesis", "kill,pause", "--kill-targets", "primaries", "--pause-targets", "primaries", "--nemesis-interval", "4"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let history = store.history();
    let ops = nemesis_ops(&history);
    let faults: Vec<&str> = ops.iter().filter_map(|o| o["f"].as_str()).filter(|f| f.starts_with("start-")).collect();
    assert!(faults.len() >= 2, "{faults:?}");
    for op in ops.iter().filter(|o| o["f"].as_str().is_some_and(|f| f.starts_with("start-"))) {
        // Each fault hit the node that led when it started.
        assert_eq!(op["value"]["nodes"], op["value"]["leaders"], "{op}");
    }
    let results = store.json("results.json");
    assert_eq!(results["valid"], "valid");
    // After the final recovery, reads of every key succeeded.
    let last_ok_read = history.iter().rev().find(|o| o["f"] == "read" && o["type"] == "ok");
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
        while !store.history().iter().any(|o| o["f"] == format!("start-{fault}").as_str()) {
            assert!(Instant::now() < deadline, "no {fault} started");
            std::thread::sleep(Duration::from_millis(100));
        }
        let id = store.json("test.json")["run_id"].as_str().unwrap().to_string();
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
    let o = faultline(&store, "14", &["--nemesis", "latency", "--latency-ms", "200", "--jitter-ms", "0", "--nemesis-interval", "5"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let history = store.history();
    let ops = nemesis_ops(&history);
    let start = ops.iter().find(|o| o["f"] == "start-latency").expect("a latency fault");
    let stop = ops.iter().find(|o| o["f"] == "stop-latency").expect("healed");
    let slow: Vec<&str> = start["value"]["nodes"].as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    // The consumer really held packets for every slowed node.
    for node in &slow {
        assert!(stop["value"]["undone"]["delayed_packets"][node].as_u64().unwrap() > 10, "{stop}");
    }
    // Ops through a slowed node took at least the delay (request packets into it were held).
    let (t0, t1) = (start["time"].as_u64().unwrap(), stop["time"].as_u64().unwrap());
    let mut invoked: std::collections::HashMap<String, u64> = Default::default();
    let mut slow_latencies = Vec::new();
    for op in &history {
        let process = op["process"].to_string();
        match op["type"].as_str() {
            Some("invoke") => {
                invoked.insert(process, op["time"].as_u64().unwrap());
            }
            Some("ok") => {
                let began = invoked[&process];
                // Only ops wholly inside the fault: at the heal, held packets are let go at once,
                // and the stop op is recorded just after the heal has happened.
                let ended = op["time"].as_u64().unwrap();
                if began > t0 && ended + 100_000_000 < t1 && slow.contains(&op["node"].as_str().unwrap_or("")) {
                    slow_latencies.push(op["time"].as_u64().unwrap() - began);
                }
            }
            _ => {}
        }
    }
    assert!(!slow_latencies.is_empty());
    assert!(slow_latencies.iter().all(|&ns| ns >= 200_000_000), "every ok op through a slowed node took >= 200 ms");
    assert_eq!(store.json("results.json")["valid"], "valid");
}
