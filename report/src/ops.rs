//! The history as the report draws it: client ops as intervals on lanes, and fault windows.

use history::{History, HistoryError, OpType, Outcome};
use serde_json::{json, Value};

use crate::html::short;

/// One client op, invoke to completion.
pub struct Interval {
    pub lane: u32,
    pub process: String,
    /// Nanoseconds since the first entry of the history.
    pub start: u64,
    /// `None`: never completed.
    pub end: Option<u64>,
    pub outcome: Outcome,
    pub f: String,
    pub key: Option<String>,
    pub value: Value,
    pub result: Option<Value>,
    /// `index` of the invoke, to find it in the history file.
    pub index: u64,
}

/// A fault from its `start-…` nemesis entry to its `stop-…` one (or the end).
pub struct FaultWindow {
    pub name: String,
    pub start: u64,
    pub end: u64,
    pub detail: Value,
}

/// Everything the charts and the timeline need.
pub struct Drawn {
    pub ops: Vec<Interval>,
    pub lanes: u32,
    pub faults: Vec<FaultWindow>,
    /// Nanoseconds from the first to the last entry.
    pub span: u64,
    /// The history's time of its first entry (times above are relative to it).
    pub t0: u64,
}

impl Drawn {
    pub fn new(history: &History) -> Result<Drawn, HistoryError> {
        let t0 = history.ops.iter().map(|o| o.time).min().unwrap_or(0);
        let span = history.ops.iter().map(|o| o.time).max().unwrap_or(0) - t0;
        let pairs = history.pair()?;
        let mut ops: Vec<Interval> = pairs
            .iter()
            .map(|p| {
                let invoke = &history.ops[p.invoke];
                let completion = p.completion.map(|c| &history.ops[c]);
                Interval {
                    lane: 0,
                    process: invoke.process.to_string(),
                    start: invoke.time - t0,
                    end: completion.map(|c| c.time - t0),
                    outcome: p.outcome,
                    f: invoke.f.clone(),
                    key: invoke.key.as_ref().map(|k| k.to_string()),
                    value: invoke.value.clone(),
                    result: completion.filter(|c| c.kind == OpType::Ok).map(|c| c.value.clone()),
                    index: invoke.index,
                }
            })
            .collect();
        let lanes = assign_lanes(&mut ops, span);
        Ok(Drawn { ops, lanes, faults: fault_windows(history, t0), span, t0 })
    }

    /// The data the page's script draws from: columns rather than objects, to keep 100,000 ops
    /// to a few megabytes. Times in milliseconds.
    pub fn script_data(&self) -> Value {
        let ms = |ns: u64| (ns as f64 / 1e3).round() / 1e3;
        let mut fs: Vec<&str> = Vec::new();
        let mut f_col = Vec::with_capacity(self.ops.len());
        for o in &self.ops {
            let i = match fs.iter().position(|x| *x == o.f) {
                Some(i) => i,
                None => {
                    fs.push(&o.f);
                    fs.len() - 1
                }
            };
            f_col.push(i);
        }
        json!({
            "span": ms(self.span),
            "lanes": self.lanes,
            "fs": fs,
            "lane": self.ops.iter().map(|o| o.lane).collect::<Vec<_>>(),
            "process": self.ops.iter().map(|o| o.process.as_str()).collect::<Vec<_>>(),
            "start": self.ops.iter().map(|o| ms(o.start)).collect::<Vec<_>>(),
            "end": self.ops.iter().map(|o| o.end.map(ms)).collect::<Vec<_>>(),
            "type": self.ops.iter().map(|o| match o.outcome { Outcome::Ok => 0, Outcome::Fail => 1, Outcome::Info => 2 }).collect::<Vec<_>>(),
            "f": f_col,
            "key": self.ops.iter().map(|o| o.key.as_deref()).collect::<Vec<_>>(),
            "value": self.ops.iter().map(|o| short(&o.value, 48)).collect::<Vec<_>>(),
            "result": self.ops.iter().map(|o| o.result.as_ref().map(|r| short(r, 48))).collect::<Vec<_>>(),
            "index": self.ops.iter().map(|o| o.index).collect::<Vec<_>>(),
            "faults": self.faults.iter().map(|w| json!({"name": w.name, "start": ms(w.start), "end": ms(w.end)})).collect::<Vec<_>>(),
        })
    }
}

/// Processes that never overlap share a lane (a Jepsen client gets a new process after every
/// `info`), so the timeline has about as many lanes as there were clients.
fn assign_lanes(ops: &mut [Interval], span: u64) -> u32 {
    use std::collections::BTreeMap;
    // Each process's span, in order of first invoke.
    let mut spans: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for o in ops.iter() {
        let e = spans.entry(o.process.as_str()).or_insert((o.start, o.start));
        e.0 = e.0.min(o.start);
        e.1 = e.1.max(o.end.unwrap_or(span));
    }
    let mut order: Vec<(&str, u64, u64)> = spans.into_iter().map(|(p, (s, e))| (p, s, e)).collect();
    order.sort_by_key(|&(p, s, _)| (s, p.to_string()));
    let mut lane_free_at: Vec<u64> = Vec::new();
    let mut lane_of: std::collections::HashMap<String, u32> = Default::default();
    for (p, s, e) in order {
        let lane = match lane_free_at.iter().position(|&free| free < s) {
            Some(l) => l,
            None => {
                lane_free_at.push(0);
                lane_free_at.len() - 1
            }
        };
        lane_free_at[lane] = e;
        lane_of.insert(p.to_string(), lane as u32);
    }
    for o in ops.iter_mut() {
        o.lane = lane_of.get(&o.process).copied().unwrap_or(0);
    }
    lane_free_at.len() as u32
}

/// The history's fault windows, relative to its first entry.
fn fault_windows(history: &History, t0: u64) -> Vec<FaultWindow> {
    history::faults::windows(history)
        .into_iter()
        .map(|w| FaultWindow { name: w.fault, start: w.start.saturating_sub(t0), end: w.end.saturating_sub(t0), detail: w.detail })
        .collect()
}
