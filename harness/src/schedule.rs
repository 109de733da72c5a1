//! When faults happen: quiet for an interval, one fault (drawn with the seed) for an interval,
//! its inverse, and so on until the workload ends. Every start and stop is a `nemesis` op in the
//! history with exactly what was done. Afterwards, availability per fault window is computed
//! from the history.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkers::history::{Op, OpType, Process};
use checkers::rng::Rng;
use results::HistoryWriter;
use serde::Serialize;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::db::Db;
use crate::faults::Fault;
use crate::runner::Stop;

/// Mixed into the seed so faults and operations draw from different streams.
const NEMESIS_SALT: u64 = 0x6E65_6D65_7369_73;

/// Records a nemesis op.
pub fn record(history: &HistoryWriter, f: &str, value: Value) -> Op {
    history.record(Op {
        index: 0,
        kind: OpType::Info,
        process: Process::Nemesis,
        f: f.to_string(),
        key: None,
        value,
        time: 0,
        node: None,
        error: None,
    })
}

/// Runs faults until `end` or `stop`, always undoing the active one before returning.
pub async fn run<D: Db>(
    mut faults: Vec<Box<dyn Fault>>,
    interval: Duration,
    seed: u64,
    db: &D,
    cluster: Arc<Mutex<Cluster>>,
    history: Arc<HistoryWriter>,
    stop: Arc<Stop>,
    end: Instant,
) {
    if faults.is_empty() {
        return;
    }
    let mut rng = Rng::new(seed ^ NEMESIS_SALT);
    let pause = |d: Duration| {
        let stop = stop.clone();
        async move {
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = stop.wait() => {}
            }
        }
    };
    loop {
        pause(interval.min(end.saturating_duration_since(Instant::now()))).await;
        if stop.is_set() || Instant::now() + interval / 2 >= end {
            return;
        }
        let i = rng.below(faults.len() as u64) as usize;
        let nodes = cluster.lock().unwrap_or_else(|p| p.into_inner()).nodes.clone();
        let primaries = db.primaries(&nodes).await;
        let fault = &mut faults[i];
        let started = {
            let mut c = cluster.lock().unwrap_or_else(|p| p.into_inner());
            fault.start(&mut c, &primaries, &mut rng)
        };
        let name = fault.name();
        match started {
            Ok(mut what) => {
                if let Some(obj) = what.as_object_mut() {
                    obj.insert("leaders".into(), primaries.iter().map(|&i| nodes[i].name.clone()).collect());
                }
                record(&history, &format!("start-{name}"), what);
            }
            Err(e) => {
                record(&history, &format!("start-{name}"), serde_json::json!({ "error": format!("{e:#}") }));
            }
        }
        pause(interval.min(end.saturating_duration_since(Instant::now()))).await;
        // Who leads just before the heal: shows whether the system moved on (a new leader on
        // the majority side of a partition).
        let leaders_before_heal: Vec<String> = db.primaries(&nodes).await.iter().map(|&i| nodes[i].name.clone()).collect();
        let stopped = {
            let mut c = cluster.lock().unwrap_or_else(|p| p.into_inner());
            fault.stop(&mut c)
        };
        let value = match stopped {
            Ok(undone) => serde_json::json!({ "undone": undone, "leaders_before_heal": leaders_before_heal }),
            Err(e) => serde_json::json!({ "error": format!("{e:#}"), "leaders_before_heal": leaders_before_heal }),
        };
        record(&history, &format!("stop-{name}"), value);
    }
}

/// How the system served clients while one fault was active.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Window {
    /// The fault.
    pub fault: String,
    /// What was done (targets, grudge…).
    pub detail: Value,
    /// Start and end, seconds since the test began.
    pub start_s: f64,
    /// End of the window.
    pub end_s: f64,
    /// Ops completed in the window.
    pub completed: usize,
    /// Of which ok, as a fraction (null when none completed).
    pub success_rate: Option<f64>,
    /// The longest time in the window without any ok completion, seconds.
    pub longest_without_ok_s: f64,
    /// From the end of the fault (heal) to the first ok completion after it, seconds.
    pub heal_to_first_ok_s: Option<f64>,
}

/// Availability per fault window, from the recorded history.
pub fn availability(ops: &[Op]) -> Vec<Window> {
    let secs = |ns: u64| ns as f64 / 1e9;
    let ok_times: Vec<u64> = ops.iter().filter(|o| o.is_client() && o.kind == OpType::Ok).map(|o| o.time).collect();
    let mut windows = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let Some(name) = op.f.strip_prefix("start-").filter(|_| !op.is_client()) else { continue };
        let end = ops[i + 1..]
            .iter()
            .find(|o| !o.is_client() && o.f == format!("stop-{name}"))
            .map(|o| o.time)
            .unwrap_or_else(|| ops.last().map_or(op.time, |o| o.time));
        let in_window = |t: u64| t >= op.time && t < end;
        let completed: Vec<&Op> = ops.iter().filter(|o| o.is_client() && o.kind != OpType::Invoke && in_window(o.time)).collect();
        let oks = completed.iter().filter(|o| o.kind == OpType::Ok).count();
        let mut marks: Vec<u64> = std::iter::once(op.time).chain(ok_times.iter().copied().filter(|&t| in_window(t))).chain(std::iter::once(end)).collect();
        marks.sort_unstable();
        let longest = marks.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        windows.push(Window {
            fault: name.to_string(),
            detail: op.value.clone(),
            start_s: secs(op.time),
            end_s: secs(end),
            completed: completed.len(),
            success_rate: (!completed.is_empty()).then(|| oks as f64 / completed.len() as f64),
            longest_without_ok_s: secs(longest),
            heal_to_first_ok_s: ok_times.iter().find(|&&t| t >= end).map(|&t| secs(t - end)),
        });
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: OpType, process: Process, f: &str, time_ms: u64) -> Op {
        Op { index: 0, kind, process, f: f.into(), key: None, value: Value::Null, time: time_ms * 1_000_000, node: None, error: None }
    }

    #[test]
    fn availability_per_window() {
        let c = |kind, t| op(kind, Process::Client(0), "read", t);
        let n = |f, t| op(OpType::Info, Process::Nemesis, f, t);
        let ops = vec![
            c(OpType::Ok, 100),
            n("start-partition", 1000),
            c(OpType::Ok, 1200),
            c(OpType::Info, 1500),
            c(OpType::Fail, 1600),
            c(OpType::Ok, 1800),
            n("stop-partition", 3000),
            c(OpType::Ok, 3250),
        ];
        let w = availability(&ops);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].fault, "partition");
        assert_eq!(w[0].completed, 4);
        assert_eq!(w[0].success_rate, Some(0.5));
        // From the last ok at 1.8 s to the heal at 3.0 s.
        assert!((w[0].longest_without_ok_s - 1.2).abs() < 1e-9);
        assert!((w[0].heal_to_first_ok_s.unwrap() - 0.25).abs() < 1e-9);
    }
}
