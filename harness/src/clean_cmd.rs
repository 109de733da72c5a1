//! `faultline clean`: remove what runs that were killed (SIGKILL, power loss) left behind —
//! their node processes, namespaces, veths, bridges and scratch space — found by faultline's
//! naming pattern. Runs whose harness is still alive are left alone.

use crate::exit_codes;
use crate::Failure;

/// Removes the leftovers of dead runs; returns 0, or 255 when something could not be removed.
pub fn run() -> Result<i32, Failure> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Failure::bad_input(anyhow::anyhow!("faultline clean needs root (it deletes network namespaces)")));
    }
    let report = nemesis::netns::clean_leftovers().map_err(|e| Failure { error: e.into(), code: exit_codes::INTERNAL })?;
    if report.runs.is_empty() {
        println!("nothing to clean");
    } else {
        println!(
            "cleaned {} run(s) ({}): {} namespace(s), {} link(s)",
            report.runs.len(),
            report.runs.join(", "),
            report.namespaces,
            report.links
        );
    }
    if !report.live_runs.is_empty() {
        println!("left alone (their harness is still running): {}", report.live_runs.join(", "));
    }
    for c in &report.clock_restored {
        println!("{c}");
    }
    for p in &report.problems {
        eprintln!("problem: {p}");
    }
    Ok(if report.problems.is_empty() { exit_codes::VALID } else { exit_codes::INTERNAL })
}
