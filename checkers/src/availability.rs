//! How the system served clients while each fault was active: the share of completions that
//! were `ok`, the longest stretch without one, and how long after the heal service came back.
//! Informational: the verdict is always valid (an unavailable system is not an incorrect one).

use history::faults::{self, Window};
use history::{History, HistoryError, OpType, Validity};
use serde::{Deserialize, Serialize};

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

/// The availability checker.
pub struct Availability;

/// Availability during each fault window, in order of the windows' starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityResult {
    /// One entry per fault window.
    pub windows: Vec<WindowAvailability>,
}

/// One fault window and how clients fared in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowAvailability {
    /// The fault and when it was active.
    #[serde(flatten)]
    pub window: Window,
    /// Client ops completed in the window.
    pub completed: usize,
    /// Of which ok, as a fraction (absent when none completed).
    pub success_rate: Option<f64>,
    /// The longest time in the window without any ok completion, in seconds.
    pub longest_without_ok_s: f64,
    /// From the heal to the first ok completion after it, in seconds (absent if none came).
    pub heal_to_first_ok_s: Option<f64>,
}

impl Checker for Availability {
    fn name(&self) -> &'static str {
        "availability"
    }

    fn check(&self, history: &History, _: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let result = availability(history);
        Ok(CheckResult { valid: Validity::Valid, detail: CheckDetail::Availability(result) })
    }
}

/// The figures for every fault window of `history`.
pub fn availability(history: &History) -> AvailabilityResult {
    let secs = |ns: u64| ns as f64 / 1e9;
    let ops = &history.ops;
    let mut ok_times: Vec<u64> = ops.iter().filter(|o| o.is_client() && o.kind == OpType::Ok).map(|o| o.time).collect();
    ok_times.sort_unstable();
    let windows = faults::windows(history)
        .into_iter()
        .map(|window| {
            let in_window = |t: u64| t >= window.start && t < window.end;
            let completed: Vec<OpType> =
                ops.iter().filter(|o| o.is_client() && o.kind != OpType::Invoke && in_window(o.time)).map(|o| o.kind).collect();
            let oks = completed.iter().filter(|&&k| k == OpType::Ok).count();
            let mut marks: Vec<u64> = std::iter::once(window.start)
                .chain(ok_times.iter().copied().filter(|&t| in_window(t)))
                .chain(std::iter::once(window.end))
                .collect();
            marks.sort_unstable();
            let longest = marks.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
            let first_ok_after = ok_times.iter().find(|&&t| t >= window.end);
            WindowAvailability {
                completed: completed.len(),
                success_rate: (!completed.is_empty()).then(|| oks as f64 / completed.len() as f64),
                longest_without_ok_s: secs(longest),
                heal_to_first_ok_s: if window.stopped { first_ok_after.map(|&t| secs(t - window.end)) } else { None },
                window,
            }
        })
        .collect();
    AvailabilityResult { windows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::faults::{op as nemesis_op, Event};
    use history::{Op, Process};
    use serde_json::Value;

    fn client(kind: OpType, time_ms: u64) -> Op {
        Op {
            index: 0,
            kind,
            process: Process::Client(0),
            f: "read".into(),
            key: None,
            value: Value::Null,
            time: time_ms * 1_000_000,
            node: None,
            error: None,
        }
    }

    fn nemesis(event: Event, time_ms: u64) -> Op {
        Op { time: time_ms * 1_000_000, ..nemesis_op(event, Value::Null) }
    }

    #[test]
    fn availability_per_window() {
        let ops = vec![
            client(OpType::Ok, 100),
            nemesis(Event::Start("partition"), 1000),
            client(OpType::Ok, 1200),
            client(OpType::Info, 1500),
            client(OpType::Fail, 1600),
            client(OpType::Ok, 1800),
            nemesis(Event::Stop("partition"), 3000),
            client(OpType::Ok, 3250),
        ];
        let w = availability(&History::from_ops("h", ops)).windows;
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].window.fault, "partition");
        assert_eq!(w[0].completed, 4);
        assert_eq!(w[0].success_rate, Some(0.5));
        // From the last ok at 1.8 s to the heal at 3.0 s.
        assert!((w[0].longest_without_ok_s - 1.2).abs() < 1e-9);
        assert!((w[0].heal_to_first_ok_s.unwrap() - 0.25).abs() < 1e-9);
        // Stored flat: the window's fields beside the figures.
        let json = serde_json::to_value(&w[0]).unwrap();
        assert_eq!(json["fault"], "partition");
        assert_eq!(json["success_rate"], 0.5);
    }
}
