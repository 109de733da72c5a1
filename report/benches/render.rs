//! Render time and file size of the report for 10,000 and 100,000 ops (synthetic cas-register
//! histories with 1% indeterminate ops, checked first so that the per-key table is there).
//!
//! ```text
//! cargo bench -p report --bench render
//! ```

use std::time::Instant;

use checkers::models::ModelName;
use checkers::synth::{generate, Spec, Workload};
use checkers::{CheckOptions, Checker, Linearizable};
use report::{render, ReportInput};

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` this is only a smoke run.
    let sizes: &[usize] = if std::env::args().any(|a| a == "--bench") { &[10_000, 100_000] } else { &[1_000] };
    println!("{:<28} {:>10} {:>10} {:>12}", "history", "check", "render", "report size");
    for &ops in sizes {
        let spec = Spec { keys: 20, info_rate: 0.01, ..Spec::new(Workload::CasRegister, ops, 10, 1) };
        let history = generate(&spec);
        let started = Instant::now();
        let result = Linearizable::new(ModelName::CasRegister).check(&history, &CheckOptions::default()).expect("a well-formed history");
        let check = started.elapsed();
        let input = ReportInput {
            title: format!("{ops} ops"),
            history: &history,
            checks: Some(&result),
            test: None,
            run: None,
            node_logs: Vec::new(),
        };
        let mut best = f64::MAX;
        let mut size = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let page = render(&input).expect("renders");
            best = best.min(started.elapsed().as_secs_f64());
            size = page.len();
        }
        println!(
            "{:<28} {:>7.0} ms {:>7.0} ms {:>8.1} MiB",
            format!("cas-register, {ops} ops"),
            check.as_secs_f64() * 1e3,
            best * 1e3,
            size as f64 / (1 << 20) as f64
        );
    }
}
