//! `cargo bench -p harness --bench redis_loss` (root, redis-server, redis-sentinel): how well
//! faultline finds Redis Sentinel's lost writes. Runs `faultline test --target redis --workload
//! set --nemesis partition --partition primary-minority` RUNS times (seeds 1..=RUNS, 60 s each)
//! and prints, per run and in all: whether acknowledged writes were lost, how many (and the
//! share of the acknowledged), and how long after its partition began the first lost write
//! was acknowledged. `REDIS_LOSS_RUNS` and `REDIS_LOSS_ARGS` (extra flags) change the runs.

use std::process::Command;

use checkers::CheckDetail;
use results::{read_record, RunRecord};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("redis loss benchmark: run it with `cargo bench -p harness --bench redis_loss` (as root)");
        return;
    }
    let runs: u64 = std::env::var("REDIS_LOSS_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let extra = std::env::var("REDIS_LOSS_ARGS").unwrap_or_default();
    let store = std::env::temp_dir().join(format!("faultline-redis-loss-{}", std::process::id()));
    println!("redis set under primary-minority partitions, 60 s runs, 5 nodes, 10 clients {extra}");
    println!(
        "{:>5} {:>8} {:>12} {:>8} {:>10} {:>26}",
        "seed", "verdict", "acknowledged", "lost", "lost %", "first lost ack, into its partition"
    );
    let (mut found, mut lost_total, mut acked_total) = (0, 0usize, 0usize);
    let mut delays = Vec::new();
    for seed in 1..=runs {
        let args = format!(
            "test --target redis --workload set --nemesis partition --partition primary-minority --time-limit 60 --seed {seed} {extra}"
        );
        let store_arg = store.display().to_string();
        let status = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(args.split_whitespace())
            .args(["--store", &store_arg])
            .output()
            .expect("faultline runs")
            .status;
        let Ok(record) = read_record::<RunRecord>(&store.join("latest/results.json")) else {
            println!("{seed:>5} no results ({status})");
            continue;
        };
        let set = record.checks.parts().into_iter().find_map(|(_, r)| match &r.detail {
            CheckDetail::Set(s) => s.keys.first().cloned(),
            _ => None,
        });
        let Some(set) = set else { continue };
        let first =
            set.lost.iter().filter_map(|l| l.during.as_ref().map(|(_, start)| (l.acknowledged - start) as f64 / 1e9)).reduce(f64::min);
        if !set.lost.is_empty() {
            found += 1;
        }
        lost_total += set.lost.len();
        acked_total += set.acknowledged;
        if let Some(d) = first {
            delays.push(d);
        }
        println!(
            "{seed:>5} {:>8} {:>12} {:>8} {:>9.1}% {:>26}",
            record.valid.as_str(),
            set.acknowledged,
            set.lost.len(),
            100.0 * set.lost.len() as f64 / set.acknowledged.max(1) as f64,
            first.map_or("-".to_string(), |d| format!("{d:.2} s"))
        );
    }
    delays.sort_by(|a, b| a.total_cmp(b));
    let median = delays.get(delays.len() / 2).map_or("-".to_string(), |d| format!("{d:.2} s"));
    println!(
        "loss found in {found}/{runs} runs; {lost_total} of {acked_total} acknowledged adds lost ({:.1}%); first lost ack after its partition began: median {median}",
        100.0 * lost_total as f64 / acked_total.max(1) as f64
    );
    let _ = std::fs::remove_dir_all(&store);
}
