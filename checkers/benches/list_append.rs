//! `cargo bench -p checkers --bench list_append`: time and peak heap of the list-append
//! (Elle) checker on simulated strictly serializable histories of 10k and 100k transactions
//! (valid by construction: every cycle search runs to the end), and on the same with stale
//! reads injected (invalid). Peak heap includes the checker's copy of the transactions and
//! its graph, not the history read before it.

#[path = "common/heap.rs"]
mod heap;

use checkers::elle::{ConsistencyModel, ListAppend};
use checkers::{synth, CheckDetail, CheckOptions, Checker};
use heap::{measure, mib};
use history::OpType;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("list-append benchmark: run it with `cargo bench -p checkers --bench list_append`");
        return;
    }
    println!("{:<64} {:>10} {:>10}  result", "case", "time", "heap peak");
    for txns in [10_000, 100_000] {
        let mut history = synth::list_append(txns, 20, 0.05, 1);
        for model in [ConsistencyModel::Serializable, ConsistencyModel::StrictSerializable] {
            let checker = ListAppend { model };
            let (time, peak, r) = measure(3, || checker.check(&history, &CheckOptions::default()).expect("a readable history"));
            let CheckDetail::ListAppend(e) = &r.detail else { unreachable!() };
            println!(
                "{:<64} {:>7.0} ms {:>6.1} MiB  {} ({} edges, {} info committed)",
                format!("{txns} txns, 20 clients, 5% info, {model}"),
                time.as_secs_f64() * 1e3,
                mib(peak),
                r.valid.as_str(),
                e.edges,
                e.info_committed
            );
        }
        // Every 500th ok read loses its last value: stale reads, each a cycle with real time.
        let mut made_stale = 0;
        for op in history.ops.iter_mut().filter(|op| op.kind == OpType::Ok).step_by(500) {
            if let Some(m) = op
                .value
                .as_array_mut()
                .and_then(|mops| mops.iter_mut().find(|m| m[0] == "r" && m[2].as_array().is_some_and(|l| !l.is_empty())))
            {
                if let Some(l) = m[2].as_array_mut() {
                    l.pop();
                    made_stale += 1;
                }
            }
        }
        let checker = ListAppend { model: ConsistencyModel::StrictSerializable };
        let (time, peak, r) = measure(3, || checker.check(&history, &CheckOptions::default()).expect("a readable history"));
        let CheckDetail::ListAppend(e) = &r.detail else { unreachable!() };
        println!(
            "{:<64} {:>7.0} ms {:>6.1} MiB  {} ({:?})",
            format!("{txns} txns, {made_stale} stale reads, strict-serializable"),
            time.as_secs_f64() * 1e3,
            mib(peak),
            r.valid.as_str(),
            e.counts
        );
    }
}
