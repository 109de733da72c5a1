//! Issue 10's soak: 20 runs across every fault kind, each interrupted at a random moment by
//! SIGINT, SIGTERM or SIGKILL (then `faultline clean`). After each, the machine must be as it
//! was: the root namespace's links and iptables rules, the namespaces, the sysctls faultline
//! could touch, no process of any run left, and the clock within 1 ms of where it would be.
//! Prints the figures. Needs root, iproute2, iptables and libfaketime.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{text, Store};
use history::Rng;

fn run(program: &str, args: &[&str]) -> String {
    let o = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ns(clock: nix::time::ClockId) -> i128 {
    let t = nix::time::clock_gettime(clock).unwrap();
    t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128
}

/// What faultline may touch and must leave as it found it.
#[derive(Debug, PartialEq)]
struct Machine {
    links: Vec<String>,
    namespaces: Vec<String>,
    iptables: String,
    sysctls: Vec<String>,
    processes: Vec<String>,
}

fn machine() -> Machine {
    // Link names and flags, not counters.
    let mut links: Vec<String> =
        run("ip", &["-o", "link", "show"]).lines().map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()).collect();
    links.sort();
    let mut namespaces: Vec<String> = run("ip", &["netns", "list"]).lines().map(str::to_string).collect();
    namespaces.sort();
    let iptables = ["filter", "nat", "mangle", "raw"].iter().map(|t| run("iptables", &["-w", "-t", t, "-S"])).collect::<Vec<_>>().join("");
    let sysctls = ["net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/ipv4/conf/all/forwarding"]
        .iter()
        .map(|k| format!("{k}={}", std::fs::read_to_string(format!("/proc/sys/{k}")).unwrap_or_default().trim()))
        .collect();
    // Every process a run starts has a command line naming kv-node, etcd or a scratch dir.
    let mut processes: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("kv-node") || c.contains("/tmp/faultline-") || c.starts_with("etcd "))
        .collect();
    processes.sort();
    Machine { links, namespaces, iptables, sysctls, processes }
}

#[test]
fn twenty_interrupted_runs_leave_the_machine_as_it_was() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let before = machine();
    let (boot0, real0) = (ns(nix::time::ClockId::CLOCK_BOOTTIME), ns(nix::time::ClockId::CLOCK_REALTIME));
    let clock_offset_ms = || {
        let (boot, real) = (ns(nix::time::ClockId::CLOCK_BOOTTIME), ns(nix::time::ClockId::CLOCK_REALTIME));
        (real - (real0 + (boot - boot0))) as f64 / 1e6
    };
    let faults = [
        "--nemesis partition",
        "--nemesis kill --kill-targets majority",
        "--nemesis pause --pause-targets all",
        "--nemesis clock --clock-mode strobe",
        "--nemesis loss",
        "--nemesis latency",
        "--nemesis restart",
        "--nemesis clock --clock-strategy system --nodes 1 --clock-skew-ms 300",
        "--nemesis all",
        "--nemesis partition,kill,pause",
    ];
    let signals = ["INT", "TERM", "KILL"];
    let mut rng = Rng::new(2026);
    let mut worst_clock = 0.0f64;
    let mut tally = std::collections::BTreeMap::new();
    for i in 0..20 {
        let fault = faults[i % faults.len()];
        let signal = signals[rng.below(3) as usize];
        let after_ms = 300 + rng.below(5000);
        let store = Store::new(&format!("soak-{i}"));
        let mut args: Vec<String> =
            "test --time-limit 30 --nemesis-interval 0.7 --fault-duration 1.2 --rate 100".split(' ').map(String::from).collect();
        args.extend(fault.split(' ').map(String::from));
        args.extend(["--seed".into(), i.to_string(), "--store".into(), store.path().to_string()]);
        let mut child =
            Command::new(env!("CARGO_BIN_EXE_faultline")).args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(after_ms));
        Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        let stopped = Instant::now();
        let status = child.wait().unwrap();
        let took = stopped.elapsed();
        if signal == "KILL" {
            let o = Command::new(env!("CARGO_BIN_EXE_faultline")).arg("clean").output().unwrap();
            assert!(o.status.success(), "run {i}: clean: {}", text(&o));
        } else {
            assert!(took < Duration::from_secs(20), "run {i} ({fault}, SIG{signal}): stopped in {took:?}");
            assert!(matches!(status.code(), Some(0..=2) | Some(254)), "run {i} ({fault}, SIG{signal} after {after_ms} ms): {status}");
        }
        let offset = clock_offset_ms();
        worst_clock = worst_clock.max(offset.abs());
        assert!(offset.abs() < 1.0, "run {i} ({fault}, SIG{signal} after {after_ms} ms): the clock is off by {offset:.3} ms");
        let now = machine();
        assert_eq!(now, before, "run {i} ({fault}, SIG{signal} after {after_ms} ms) left something behind");
        *tally.entry(signal).or_insert(0) += 1;
        eprintln!(
            "soak {i:>2}: {fault:<60} SIG{signal:<4} after {after_ms:>4} ms: exit {:?}, stopped in {:.2} s",
            status.code(),
            took.as_secs_f64()
        );
    }
    eprintln!("soak: 20 runs ({tally:?}); machine unchanged after each; clock within {worst_clock:.3} ms");
}
