//! `cargo bench -p checkers`: time and peak heap of the linearizability checker on the labelled
//! Porcupine histories and on large synthetic ones. Peak heap is measured exactly by a counting
//! allocator, reset before each case, and includes the history itself.
//!
//! Porcupine's data is read from `FAULTLINE_DATA` or ../shared/data; without it those cases
//! are skipped (and say so).

use std::path::PathBuf;
use std::time::Duration;

#[path = "common/heap.rs"]
mod heap;

use checkers::models::ModelName;
use checkers::synth::{generate, Spec, Workload};
use checkers::{CheckOptions, LinearizabilityResult};
use heap::{heap_now, measure, mib};
use history::import::{read_history, Format};
use history::History;

fn data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FAULTLINE_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    let dir = dir.join("porcupine");
    dir.is_dir().then_some(dir)
}

/// `peak`: the heap's peak during the case above the heap before it.
fn report(name: &str, time: Duration, peak: usize, result: &str) {
    println!("{name:<74} {:>9.1} ms {:>8.1} MiB  {result}", time.as_secs_f64() * 1e3, mib(peak));
}

fn summary(r: &LinearizabilityResult) -> String {
    let invalid = r.per_key.iter().filter(|k| k.valid == history::Validity::Invalid).count();
    let states: u64 = r.per_key.iter().map(|k| k.states).sum();
    let cause = r.cause.map(|c| format!(" ({})", c.describe())).unwrap_or_default();
    format!("{}{cause}; {} keys, {invalid} invalid; {} ops; {states} states", r.valid.as_str(), r.keys, r.checked_ops)
}

fn read(path: &PathBuf, format: Format) -> History {
    let text = std::fs::read_to_string(path).expect("readable data file");
    read_history(&path.display().to_string(), &text, format).expect("valid history")
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then this only
    // shows that it builds and starts.
    if !std::env::args().any(|a| a == "--bench") {
        println!("linearizability benchmark: run it with `cargo bench -p checkers`");
        return;
    }
    // Any other argument filters cases by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let all_keys = CheckOptions { all_keys: true, ..CheckOptions::default() };
    println!("threads: {}", all_keys.threads);
    println!("{:<74} {:>12} {:>12}  result", "case", "time", "heap peak");

    if let Some(dir) = data_dir() {
        if wanted("porcupine etcd") {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("etcd")).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            let (time, peak, verdicts) = measure(5, || {
                files
                    .iter()
                    .map(|f| ModelName::CasRegister.check(&Default::default(), &read(f, Format::PorcupineEtcd), &all_keys).unwrap().valid)
                    .collect::<Vec<_>>()
            });
            let valid = verdicts.iter().filter(|v| **v == history::Validity::Valid).count();
            report(
                &format!("porcupine etcd: all {} files, read + check", files.len()),
                time,
                peak,
                &format!("{valid} valid, {} invalid", verdicts.len() - valid),
            );
            let h = read(&dir.join("etcd/etcd_002.log"), Format::PorcupineEtcd);
            let (time, peak, r) = measure(5, || ModelName::CasRegister.check(&Default::default(), &h, &all_keys).unwrap());
            report("porcupine etcd_002 (19 info ops open to the end)", time, peak, &summary(&r));
            let h = read(&dir.join("etcd/etcd_007.log"), Format::PorcupineEtcd);
            let (time, peak, r) = measure(5, || ModelName::CasRegister.check(&Default::default(), &h, &all_keys).unwrap());
            report("porcupine etcd_007", time, peak, &summary(&r));
        }
        for (file, options, label) in [
            ("c50-ok.txt", &all_keys, ""),
            ("c50-bad.txt", &all_keys, ", every key decided"),
            ("c50-bad.txt", &CheckOptions::default(), ", stop at first invalid key"),
        ] {
            let name = format!("porcupine kv {file}{label}");
            if !wanted(&name) {
                continue;
            }
            let path = dir.join("kv").join(file);
            let (time, peak, r) =
                measure(5, || ModelName::Kv.check(&Default::default(), &read(&path, Format::PorcupineKv), options).unwrap());
            report(&format!("{name}, read + check"), time, peak, &summary(&r));
        }
    } else {
        println!("SKIPPED porcupine cases: no data at ../shared/data/porcupine (set FAULTLINE_DATA)");
    }

    if wanted("synthetic kv") {
        let spec = Spec {
            workload: Workload::Kv,
            ops: 1_000_000,
            clients: 20,
            keys: 1000,
            info_rate: 0.01,
            values: 1_000_000,
            seed: 1,
            info_lag: 100,
        };
        let before = heap_now();
        let history = generate(&spec);
        let resident = heap_now() - before;
        let (time, peak, r) = measure(3, || ModelName::Kv.check(&Default::default(), &history, &all_keys).unwrap());
        report("synthetic kv: 1M ops, 1000 keys, 20 clients, 1% info", time, peak, &summary(&r));
        println!("  (the history itself, in memory before the check: {:.1} MiB)", mib(resident));
        // Reading it from JSONL is measured through the command line instead (README): this
        // counting allocator serialises the parallel parser's allocations and would mislead.
    }

    if wanted("synthetic cas-register") {
        let spec = Spec {
            workload: Workload::CasRegister,
            ops: 100_000,
            clients: 10,
            keys: 1,
            info_rate: 0.01,
            values: 5,
            seed: 1,
            info_lag: 100,
        };
        let history = generate(&spec);
        let limited = CheckOptions { timeout: Some(Duration::from_secs(30)), max_memory: 2 << 30, ..CheckOptions::default() };
        let (time, peak, r) = measure(1, || ModelName::CasRegister.check(&Default::default(), &history, &limited).unwrap());
        report("synthetic cas-register: 100k ops, 1 key, 10 clients, 1% info", time, peak, &summary(&r));
        drop(history);
        let clean = Spec { info_rate: 0.0, ..spec };
        let history = generate(&clean);
        let (time, peak, r) = measure(1, || ModelName::CasRegister.check(&Default::default(), &history, &limited).unwrap());
        report("synthetic cas-register: 100k ops, 1 key, 10 clients, no info", time, peak, &summary(&r));
        // Partition-shaped: many writes time out and land (or not) long after their invoke.
        for seed in 1..=3 {
            let partitioned = Spec { ops: 3000, clients: 30, info_rate: 0.2, info_lag: 50_000, seed, ..spec };
            let history = generate(&partitioned);
            let (time, peak, r) = measure(3, || ModelName::CasRegister.check(&Default::default(), &history, &limited).unwrap());
            report(&format!("synthetic cas-register: 3k ops, 30 clients, 20% info landing late, seed {seed}"), time, peak, &summary(&r));
        }
        // A hard one: 20 clients and 10% of ops indeterminate, all open to the end.
        let hard = Spec { clients: 20, info_rate: 0.10, ..spec };
        drop(history);
        let history = generate(&hard);
        let (time, peak, r) = measure(1, || ModelName::CasRegister.check(&Default::default(), &history, &limited).unwrap());
        report("synthetic cas-register: 100k ops, 20 clients, 10% info, 30 s", time, peak, &summary(&r));
        let tight = CheckOptions { max_memory: 256 << 20, ..limited };
        let (time, peak, r) = measure(1, || ModelName::CasRegister.check(&Default::default(), &history, &tight).unwrap());
        report("  same with a 256 MiB budget", time, peak, &summary(&r));
    }

    // The hard single-key family (issue 11): one cas-register key, values 0–4, 10–30 clients,
    // 1,000–2,000 ops, 10–20% indeterminate, each landing (or not) at any later time. Then the
    // same with 30–50 clients and 1k–10k ops. Each history has 10 s; the distribution is printed.
    for (family, clients, ops, seeds) in [("hard family A", (10, 30), (1000, 2000), 40), ("hard family B", (30, 50), (1000, 10_000), 20)] {
        if !wanted(family) {
            continue;
        }
        let limited = CheckOptions { timeout: Some(Duration::from_secs(10)), max_memory: 2 << 30, ..CheckOptions::default() };
        let mut times = Vec::new();
        let (mut unknown, mut peak_max) = (0, 0);
        for seed in 0..seeds {
            let mut rng = checkers::synth::Rng::new(1000 + seed);
            let n = ops.0 + rng.below((ops.1 - ops.0) as u64 + 1) as usize;
            let c = clients.0 + rng.below((clients.1 - clients.0) as u64 + 1) as usize;
            let spec = Spec {
                workload: Workload::CasRegister,
                ops: n,
                clients: c,
                keys: 1,
                info_rate: 0.10 + rng.below(11) as f64 / 100.0,
                values: 5,
                seed: 1000 + seed,
                // An op takes about 175 time units: an indeterminate op lands at any time up to
                // the end of the history (or, with probability 1/2, never).
                info_lag: (n / c) as u64 * 175,
            };
            let history = generate(&spec);
            // FAMILY_DUMP=DIR writes each history as JSONL, to check the same files elsewhere.
            if let Some(dir) = std::env::var_os("FAMILY_DUMP") {
                let name = format!("{}-seed{seed}.jsonl", family.replace(' ', "-"));
                let file = std::fs::File::create(PathBuf::from(dir).join(name)).expect("FAMILY_DUMP is a writable directory");
                history.write_jsonl(std::io::BufWriter::new(file)).expect("the history is written");
            }
            let (time, peak, r) = measure(1, || ModelName::CasRegister.check(&Default::default(), &history, &limited).unwrap());
            if r.valid != history::Validity::Valid {
                unknown += 1;
            }
            if std::env::var_os("FAMILY_VERBOSE").is_some() {
                println!(
                    "  seed {seed}: {c} clients, {n} ops, {:.0}% info: {:.1} ms, {}",
                    spec.info_rate * 100.0,
                    time.as_secs_f64() * 1e3,
                    summary(&r)
                );
            }
            peak_max = peak_max.max(peak);
            times.push(time.as_secs_f64());
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize] * 1e3;
        println!(
            "{family}: {} histories, {}-{} clients, {}-{} ops: median {:.1} ms, p90 {:.1} ms, max {:.1} ms; {unknown} not valid within 10 s; heap peak max {:.1} MiB",
            times.len(),
            clients.0,
            clients.1,
            ops.0,
            ops.1,
            q(0.5),
            q(0.9),
            q(1.0),
            mib(peak_max)
        );
    }

    // kv with hundreds of indeterminate appends open on one key.
    if wanted("kv open appends") {
        // Lag: landing after the end (never seen), or at any time up to the end (half of
        // those that land are read).
        for (ops, info_rate, info_lag) in [(3000, 0.2, 100_000_000), (3000, 0.3, 100_000_000), (3000, 0.2, 26_000), (3000, 0.3, 26_000)] {
            let spec = Spec { workload: Workload::Kv, ops, clients: 20, keys: 1, info_rate, values: 1_000_000, seed: 7, info_lag };
            let history = generate(&spec);
            let limited = CheckOptions { timeout: Some(Duration::from_secs(30)), max_memory: 2 << 30, ..CheckOptions::default() };
            let (time, peak, r) = measure(1, || ModelName::Kv.check(&Default::default(), &history, &limited).unwrap());
            let landing = if info_lag > 1_000_000 { "never landing" } else { "landing any time" };
            report(
                &format!("kv open appends: {ops} ops on one key, 20 clients, {:.0}% info {landing}", info_rate * 100.0),
                time,
                peak,
                &format!("{}; {} left out unobserved", summary(&r), r.unobserved_ops),
            );
        }
    }
}
