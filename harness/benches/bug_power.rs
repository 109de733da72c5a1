//! `cargo bench -p harness --bench bug_power` (root): how well faultline finds the bundled
//! node's bugs. Runs the campaign `examples/bug-power.toml` in process (each bug mode 10 times
//! for 30 s under the fault that exposes it) and prints, per bug, how many runs caught it and
//! the median time into a run of the first operation that could not be linearized — read from
//! the typed results, not scraped. `BUG_POWER_ONLY=lease-read` (comma-separated) runs only
//! those modes; `BUG_POWER_RUNS` fewer seeds; `BUG_POWER_FILE=examples/etcd-locks.toml` another
//! campaign (etcd's locks under pauses).

use std::path::Path;

use harness::campaign;
use harness::signals::Interrupt;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("bug-finding benchmark: run it with `cargo bench -p harness --bench bug_power` (as root)");
        return;
    }
    let file = match std::env::var("BUG_POWER_FILE") {
        Ok(f) => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(f),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/bug-power.toml"),
    };
    let store = std::env::temp_dir().join(format!("faultline-bug-power-{}", std::process::id()));
    let plan = campaign::load(&file, &store).unwrap_or_else(|e| panic!("{e}"));
    let only: Option<Vec<String>> = std::env::var("BUG_POWER_ONLY").ok().map(|v| v.split(',').map(str::to_string).collect());
    let runs: u64 = std::env::var("BUG_POWER_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let interrupt = Interrupt::none();
    println!("{:<24} {:>8} {:>30}  ({})", "bug", "caught", "first violation, median", file.display());
    let mut groups: Vec<usize> = plan.tests.iter().map(|t| t.group).collect();
    groups.dedup();
    for group in groups {
        let tests: Vec<_> = plan.tests.iter().filter(|t| t.group == group && t.config.seed.unwrap_or(0) <= runs).collect();
        let bug = match tests[0].config.bug.join(",") {
            none if none.is_empty() => tests[0].id.split("/seed-").next().unwrap_or_default().to_string(),
            bugs => bugs,
        };
        if only.as_ref().is_some_and(|o| !o.contains(&bug)) {
            continue;
        }
        let results: Vec<_> = tests
            .iter()
            .map(|t| {
                // In process, this program is not faultline: name the binary that runs the node.
                let mut t = (*t).clone();
                t.config.bundled_binary = Some(env!("CARGO_BIN_EXE_faultline").into());
                let r = campaign::run_test(&t, &interrupt);
                if r.verdict.is_none() {
                    eprintln!("{}: no verdict: {}", t.id, r.cause.as_deref().unwrap_or(""));
                }
                r
            })
            .collect();
        let caught = results.iter().filter(|r| r.passed).count();
        let mut first: Vec<f64> = results.iter().filter(|r| r.passed).filter_map(|r| r.first_violation_seconds).collect();
        first.sort_by(|a, b| a.total_cmp(b));
        let median = first.get(first.len() / 2).map_or("-".to_string(), |s| format!("{s:.1} s"));
        let limit = tests[0].config.time_limit;
        println!("{bug:<24} {:>8} {median:>30}  (runs of {limit} s)", format!("{caught}/{}", results.len()));
    }
    let _ = std::fs::remove_dir_all(&store);
}
