//! Fault ops in a history, the one place their convention is written and read.
//!
//! As in Jepsen, the nemesis records `start-<fault>` when a fault begins and `stop-<fault>` when
//! it is undone, as `info` ops of process `nemesis`; the final heal is one `recover` op. A bare
//! `start` / `stop` (older Jepsen nemeses) is read as the fault `nemesis`. Our own faults write
//! typed values ([`FaultStarted`], [`FaultStopped`], [`Recovered`]); imported histories may carry
//! anything there, so [`windows`] keeps the raw value for display.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{History, Op, OpType, Process};

/// The `f` of the op that records the final heal.
pub const RECOVER: &str = "recover";

/// What a nemesis op says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// `start-<fault>`: the fault began.
    Start(&'a str),
    /// `stop-<fault>`: it was undone.
    Stop(&'a str),
    /// `recover`: every fault was undone at the end of the test.
    Recover,
    /// Any other nemesis op (imported histories have many kinds).
    Other(&'a str),
}

/// What a nemesis op says; `None` for client ops.
pub fn event(op: &Op) -> Option<Event<'_>> {
    if op.process != Process::Nemesis {
        return None;
    }
    let f = op.f.as_str();
    Some(match f {
        "start" => Event::Start("nemesis"),
        "stop" => Event::Stop("nemesis"),
        RECOVER => Event::Recover,
        _ => match (f.strip_prefix("start-"), f.strip_prefix("stop-")) {
            (Some(name), _) => Event::Start(name),
            (_, Some(name)) => Event::Stop(name),
            _ => Event::Other(f),
        },
    })
}

/// The nemesis op that records `event` with `value`; the recorder stamps index and time.
pub fn op(event: Event<'_>, value: Value) -> Op {
    let f = match event {
        Event::Start(name) => format!("start-{name}"),
        Event::Stop(name) => format!("stop-{name}"),
        Event::Recover => RECOVER.to_string(),
        Event::Other(f) => f.to_string(),
    };
    Op { index: 0, kind: OpType::Info, process: Process::Nemesis, f, key: None, value, time: 0, node: None, error: None }
}

/// The value of a `start-<fault>` op written by faultline's own faults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultStarted {
    /// The nodes it hit.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Who led when it started (faults can aim at primaries).
    #[serde(default)]
    pub leaders: Vec<String>,
    /// Why it could not be (fully) applied; the fault then counts as started, to be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The fault's own record: the grudge of a partition, the offsets of a clock fault, …
    #[serde(flatten)]
    pub detail: Map<String, Value>,
}

impl FaultStarted {
    /// A record of a fault on `nodes`, with its own fields in `detail` (a serializable struct
    /// whose fields are added beside `nodes`; anything else is kept under `detail`).
    pub fn new(nodes: Vec<String>, detail: impl Serialize) -> FaultStarted {
        let detail = match serde_json::to_value(detail) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => Map::new(),
            Ok(other) => Map::from_iter([("detail".to_string(), other)]),
            Err(e) => Map::from_iter([("detail".to_string(), Value::String(format!("unserializable: {e}")))]),
        };
        FaultStarted { nodes, leaders: Vec::new(), error: None, detail }
    }
}

/// The value of a `stop-<fault>` op written by faultline's own faults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultStopped {
    /// What was undone (nodes resumed, rules flushed, packets delayed, …).
    #[serde(default)]
    pub undone: Value,
    /// Who led just before the heal: shows whether the system moved on during the fault.
    #[serde(default)]
    pub leaders_before_heal: Vec<String>,
    /// Why it could not be (fully) undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The value of the `recover` op: what the final heal had to do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recovered {
    /// Each action, in words (`healed n1`, `resumed n3`, `restarted n2`).
    #[serde(default)]
    pub actions: Vec<String>,
    /// What could not be undone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// One fault, from its start op to its stop op (or the end of the history).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The fault's name (`partition`, `kill`, …).
    pub fault: String,
    /// The start op's time, ns since the test began.
    pub start: u64,
    /// The stop op's time, or the history's last time when it was never stopped.
    pub end: u64,
    /// Whether a stop op closed it.
    pub stopped: bool,
    /// The start op's value: what was done.
    pub detail: Value,
}

/// The fault windows of a history, in order of their start. A stop closes the latest open
/// window of the same fault, so faults may overlap.
pub fn windows(history: &History) -> Vec<Window> {
    let last = history.ops.iter().map(|o| o.time).max().unwrap_or(0);
    let mut open: Vec<Window> = Vec::new();
    let mut done: Vec<Window> = Vec::new();
    for op in &history.ops {
        match event(op) {
            Some(Event::Start(name)) => {
                open.push(Window { fault: name.to_string(), start: op.time, end: last, stopped: false, detail: op.value.clone() })
            }
            Some(Event::Stop(name)) => {
                if let Some(i) = open.iter().rposition(|w| w.fault == name) {
                    let mut w = open.remove(i);
                    w.end = op.time;
                    w.stopped = true;
                    done.push(w);
                }
            }
            _ => {}
        }
    }
    done.extend(open);
    done.sort_by_key(|w| (w.start, w.end));
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(mut op: Op, t: u64) -> Op {
        op.time = t;
        op
    }

    #[test]
    fn reads_what_it_writes() {
        let started = FaultStarted::new(vec!["n1".into()], serde_json::json!({"shape": "one"}));
        let op = op(Event::Start("partition"), serde_json::to_value(&started).unwrap());
        assert_eq!(op.f, "start-partition");
        assert_eq!(event(&op), Some(Event::Start("partition")));
        let back: FaultStarted = serde_json::from_value(op.value.clone()).unwrap();
        assert_eq!(back, started);
        assert_eq!(op.value["shape"], "one", "the fault's own fields sit beside nodes");
        assert_eq!(event(&super::op(Event::Recover, Value::Null)), Some(Event::Recover));
        let client = Op { process: Process::Client(1), ..op };
        assert_eq!(event(&client), None);
    }

    #[test]
    fn windows_pair_starts_with_stops_and_may_overlap() {
        let ops = vec![
            at(op(Event::Start("kill"), Value::Null), 10),
            at(op(Event::Start("partition"), serde_json::json!({"shape": "halves"})), 20),
            at(op(Event::Stop("kill"), Value::Null), 30),
            at(op(Event::Start("pause"), Value::Null), 40),
            at(op(Event::Stop("pause"), Value::Null), 50),
            at(op(Event::Other("bump"), Value::Null), 55),
        ];
        let w = windows(&History::from_ops("h", ops));
        let summary: Vec<(&str, u64, u64, bool)> = w.iter().map(|w| (w.fault.as_str(), w.start, w.end, w.stopped)).collect();
        assert_eq!(summary, vec![("kill", 10, 30, true), ("partition", 20, 55, false), ("pause", 40, 50, true)]);
        assert_eq!(w[1].detail["shape"], "halves");
    }
}
