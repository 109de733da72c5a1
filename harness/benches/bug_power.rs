//! `cargo bench -p harness --bench bug_power` (root): how well faultline finds the bundled
//! node's bugs. Each bug mode runs `RUNS` times for 30 s under the fault that exposes it (seeds
//! 1..=RUNS); printed: how many runs were found invalid, and the median time into the run of
//! the first operation that could not be linearized. `BUG_POWER_RUNS` changes the number of runs;
//! `BUG_POWER_ONLY=lease-read` (a comma-separated list) runs only those modes.

use std::process::Command;

const CASES: [(&str, &[&str]); 4] = [
    ("stale-read", &["--nemesis", "partition"]),
    ("small-quorum", &["--nemesis", "partition"]),
    ("lazy-fsync", &["--nemesis", "kill", "--kill-targets", "majority,all"]),
    ("lease-read", &["--nemesis", "clock", "--clock-mode", "strobe", "--clock-skew-ms", "3000", "--ops-per-key", "400"]),
];

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("bug-finding benchmark: run it with `cargo bench -p harness --bench bug_power` (as root)");
        return;
    }
    let runs: u64 = std::env::var("BUG_POWER_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let store = std::env::temp_dir().join(format!("faultline-bug-power-{}", std::process::id()));
    println!("{:<14} {:>8} {:>30}  (runs of 30 s, 5 nodes, 10 clients, fault every 3 s)", "bug", "caught", "first violating op, median");
    let only: Option<Vec<String>> = std::env::var("BUG_POWER_ONLY").ok().map(|v| v.split(',').map(str::to_string).collect());
    for (bug, faults) in CASES {
        if only.as_ref().is_some_and(|o| !o.iter().any(|b| b == bug)) {
            continue;
        }
        let mut caught = 0;
        let mut first: Vec<f64> = Vec::new();
        for seed in 1..=runs {
            let seed = seed.to_string();
            let mut args = vec!["test", "--bug", bug, "--nemesis-interval", "3", "--time-limit", "30", "--seed", &seed];
            args.extend_from_slice(faults);
            let store_arg = store.display().to_string();
            args.extend_from_slice(&["--store", &store_arg]);
            let out = Command::new(env!("CARGO_BIN_EXE_faultline")).args(&args).output().expect("faultline runs");
            if out.status.code() != Some(1) {
                continue;
            }
            caught += 1;
            let text = std::fs::read_to_string(store.join("latest/results.json")).unwrap_or_default();
            let results: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let earliest = results["linearizable"]["per_key"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k["failure"]["op"]["start"].as_u64())
                .min();
            if let Some(ns) = earliest {
                first.push(ns as f64 / 1e9);
            }
        }
        first.sort_by(|a, b| a.total_cmp(b));
        let median = first.get(first.len() / 2).map_or("-".to_string(), |s| format!("{s:.1} s"));
        println!("{bug:<14} {:>8} {median:>30}", format!("{caught}/{runs}"));
    }
    let _ = std::fs::remove_dir_all(&store);
}
