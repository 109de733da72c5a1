//! Importers: other tools' histories turned into ours, keeping each op's source line.
//!
//! - `jsonl`: our own `history.jsonl`.
//! - `edn`: a Jepsen / Knossos history: one vector or list of op maps, or a stream of op maps.
//! - `porcupine-etcd`: Jepsen log lines (`INFO  jepsen.util - 3 :invoke :cas [3 0]`) as in
//!   Porcupine's etcd test data.
//! - `porcupine-kv`: Porcupine's kv traces, which are EDN op maps (`{:process 0, :type :invoke,
//!   :f :append, :key "0", :value "x 0 0 y"}`).

use std::str::FromStr;

use crate::edn::{Edn, EdnReader};
use crate::history::{History, HistoryError, Key, Op, OpType, Process};

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Our JSON lines.
    Jsonl,
    /// Jepsen / Knossos EDN.
    Edn,
    /// Porcupine's etcd test data (Jepsen log lines).
    PorcupineEtcd,
    /// Porcupine's kv test data (EDN op maps).
    PorcupineKv,
}

impl Format {
    /// All formats, with their command-line names.
    pub const ALL: [(&'static str, Format); 4] =
        [("jsonl", Format::Jsonl), ("edn", Format::Edn), ("porcupine-etcd", Format::PorcupineEtcd), ("porcupine-kv", Format::PorcupineKv)];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Format::ALL.iter().find(|(_, f)| *f == self).map(|(n, _)| *n).unwrap_or("?")
    }

    /// Guesses the format from the file name and its first meaningful line.
    pub fn detect(path: &str, text: &str) -> Option<Format> {
        if path.ends_with(".jsonl") || path.ends_with(".json") {
            return Some(Format::Jsonl);
        }
        let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with(';'))?;
        if first.starts_with("{\"") || first == "{" {
            return Some(Format::Jsonl);
        }
        if first.contains("jepsen.util") || looks_like_jepsen_log_line(first) {
            return Some(Format::PorcupineEtcd);
        }
        if first.starts_with('{') || first.starts_with('[') || first.starts_with('(') {
            if first.contains(":f :get") || first.contains(":f :put") || first.contains(":f :append") {
                return Some(Format::PorcupineKv);
            }
            return Some(Format::Edn);
        }
        None
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL.iter().find(|(n, _)| *n == s).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<_> = Format::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown format `{s}`; expected one of {}", names.join(", "))
        })
    }
}

fn looks_like_jepsen_log_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    matches!((words.next(), words.next()), (Some(p), Some(t)) if p.parse::<u64>().is_ok() && t.starts_with(':'))
}

/// Reads a history in the given format. `source` names the file in errors.
pub fn read_history(source: &str, text: &str, format: Format) -> Result<History, HistoryError> {
    let history = match format {
        Format::Jsonl => History::parse_jsonl(source, text)?,
        Format::Edn | Format::PorcupineKv => read_edn(source, text)?,
        Format::PorcupineEtcd => read_jepsen_log(source, text)?,
    };
    if history.ops.is_empty() {
        return Err(HistoryError::file(source, "the history is empty (no ops)"));
    }
    Ok(history)
}

/// A Jepsen / Knossos EDN history.
pub fn read_edn(source: &str, text: &str) -> Result<History, HistoryError> {
    // One top-level vector or list holding the ops, or a stream of op maps.
    let mut reader = EdnReader::new(text);
    reader.enter_sequence();
    let mut forms = Vec::new();
    loop {
        match reader.next_value() {
            Ok(Some(form)) => forms.push(form),
            Ok(None) => break,
            Err(e) => return Err(HistoryError::at(source, e.line, None, format!("column {}: {}", e.column, e.message))),
        }
    }
    let mut ops = Vec::with_capacity(forms.len());
    let mut lines = Vec::with_capacity(forms.len());
    for (line, form) in forms {
        ops.push(edn_op(source, line, &form)?);
        lines.push(line);
    }
    let mut h = History { ops, lines, source: source.to_string(), ..History::default() };
    h.fill_positions()?;
    Ok(h)
}

fn edn_op(source: &str, line: u32, form: &Edn) -> Result<Op, HistoryError> {
    let err = |field: &str, msg: String| HistoryError::at(source, line, Some(field), msg);
    if !matches!(form, Edn::Map(_)) {
        return Err(HistoryError::at(
            source,
            line,
            None,
            format!("expected an op map like {{:process 0, :type :invoke, :f :read}}, found `{form}`"),
        ));
    }
    let kind = match form.get("type") {
        Some(Edn::Keyword(t)) | Some(Edn::Str(t)) | Some(Edn::Symbol(t)) => match t.as_str() {
            "invoke" => OpType::Invoke,
            "ok" => OpType::Ok,
            "fail" => OpType::Fail,
            "info" => OpType::Info,
            other => return Err(err("type", format!("expected :invoke, :ok, :fail or :info, found :{other}"))),
        },
        Some(other) => return Err(err("type", format!("expected :invoke, :ok, :fail or :info, found `{other}`"))),
        None => return Err(err("type", "missing".into())),
    };
    let process = match form.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
        Some(Edn::Keyword(n)) | Some(Edn::Str(n)) | Some(Edn::Symbol(n)) => Process::from_name(n).map_err(|e| err("process", e))?,
        Some(other) => return Err(err("process", format!("expected a non-negative integer or :nemesis, found `{other}`"))),
        None => return Err(err("process", "missing".into())),
    };
    let f = match form.get("f") {
        Some(Edn::Keyword(n)) | Some(Edn::Str(n)) | Some(Edn::Symbol(n)) => n.clone(),
        Some(other) => return Err(err("f", format!("expected a keyword such as :read, found `{other}`"))),
        None => return Err(err("f", "missing".into())),
    };
    let key = match form.get("key") {
        None | Some(Edn::Nil) => None,
        Some(Edn::Int(k)) => Some(Key::Int(*k)),
        Some(Edn::Str(k) | Edn::Keyword(k) | Edn::Symbol(k)) => Some(Key::Str(k.clone())),
        Some(other) => return Err(err("key", format!("expected an integer, a string or a keyword, found `{other}`"))),
    };
    let index = match form.get("index") {
        None => u64::MAX,
        Some(Edn::Int(i)) if *i >= 0 => *i as u64,
        Some(other) => return Err(err("index", format!("expected a non-negative integer, found `{other}`"))),
    };
    let time = match form.get("time") {
        None => 0,
        Some(Edn::Int(t)) if *t >= 0 => *t as u64,
        Some(other) => return Err(err("time", format!("expected a non-negative integer (nanoseconds), found `{other}`"))),
    };
    let node = form.get("node").map(|n| match n {
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => s.clone(),
        other => other.to_string(),
    });
    Ok(Op {
        index,
        kind,
        process,
        f,
        key,
        value: form.get("value").map(Edn::to_json).unwrap_or(serde_json::Value::Null),
        time,
        node,
        error: form.get("error").map(Edn::to_json),
    })
}

/// Jepsen log lines as in Porcupine's etcd data: `INFO  jepsen.util - PROCESS\t:TYPE\t:F\tVALUE`.
/// A completion whose value is a keyword (`:timed-out`) carries an error, not a result; a failed
/// read that timed out is indeterminate (`info`), as Porcupine treats it.
pub fn read_jepsen_log(source: &str, text: &str) -> Result<History, HistoryError> {
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n as u32 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let body = match raw.find(" - ") {
            // `jepsen.util` is the logger of ops; other loggers' lines are chatter.
            Some(at) if raw[..at].contains("jepsen.util") => &raw[at + 3..],
            _ if looks_like_jepsen_log_line(raw) => raw,
            // A line that names an op type or the op logger but is not in the op line's shape
            // is a damaged op, not chatter: skipping it could turn an invalid history valid.
            _ if mentions_an_op(raw) => {
                return Err(HistoryError::at(
                    source,
                    line_no,
                    None,
                    "this line looks like an op (it mentions jepsen.util or :invoke/:ok/:fail/:info) but is not \
                     `LEVEL jepsen.util - PROCESS :TYPE :F VALUE`",
                ))
            }
            _ => {
                // Other loggers' lines (nemesis chatter, headers) carry no op: counted, reported.
                skipped.push(line_no);
                continue;
            }
        };
        let mut words = body.split_whitespace();
        let err = |field: &str, msg: String| HistoryError::at(source, line_no, Some(field), msg);
        let process = words.next().unwrap_or_default();
        let process = match process.parse::<u64>() {
            Ok(p) => Process::Client(p),
            Err(_) if process == ":nemesis" || process == "nemesis" => Process::Nemesis,
            Err(_) => return Err(err("process", format!("expected a process number, found `{process}`"))),
        };
        let kind = match words.next().unwrap_or_default() {
            ":invoke" => OpType::Invoke,
            ":ok" => OpType::Ok,
            ":fail" => OpType::Fail,
            ":info" => OpType::Info,
            other => return Err(err("type", format!("expected :invoke, :ok, :fail or :info, found `{other}`"))),
        };
        let f = words.next().unwrap_or_default();
        let Some(f) = f.strip_prefix(':') else {
            return Err(err("f", format!("expected a keyword such as :read, found `{f}`")));
        };
        let rest: Vec<&str> = words.collect();
        let rest = rest.join(" ");
        let value = if rest.is_empty() {
            Edn::Nil
        } else {
            let mut r = EdnReader::new(&rest);
            match r.next_value() {
                Ok(Some((_, v))) => v,
                Ok(None) => Edn::Nil,
                Err(e) => return Err(err("value", format!("not EDN: {}", e.message))),
            }
        };
        let (kind, value, error) = match (kind, value) {
            (OpType::Invoke, v) => (OpType::Invoke, v.to_json(), None),
            (OpType::Fail, Edn::Keyword(e)) if f == "read" => (OpType::Info, serde_json::Value::Null, Some(e)),
            (k, Edn::Keyword(e)) if k != OpType::Ok => (k, serde_json::Value::Null, Some(e)),
            (k, v) => (k, v.to_json(), None),
        };
        ops.push(Op {
            index: u64::MAX,
            kind,
            process,
            f: f.to_string(),
            key: None,
            value,
            time: 0,
            node: None,
            error: error.map(serde_json::Value::String),
        });
        lines.push(line_no);
    }
    let mut h = History { ops, lines, source: source.to_string(), skipped_lines: skipped, ..History::default() };
    h.fill_positions()?;
    Ok(h)
}

/// Whether a history looks like one of Jepsen's `independent` workloads: no op has a `key`,
/// every client invoke's value is a `[key value]` pair whose key is an integer or a string, and
/// some inner value is nil or a list (a read, a cas) — so a plain history of `cas [from to]`
/// ops alone, whose values are pairs of scalars, is not taken for one.
pub fn looks_independent(history: &History) -> bool {
    let invokes: Vec<&Op> = history.ops.iter().filter(|o| o.is_client() && o.kind == OpType::Invoke).collect();
    let pair = |v: &serde_json::Value| match v.as_array() {
        Some(items) if items.len() == 2 && (items[0].is_i64() || items[0].is_u64() || items[0].is_string()) => Some(items[1].clone()),
        _ => None,
    };
    !invokes.is_empty()
        && history.ops.iter().all(|o| o.key.is_none())
        && invokes.iter().all(|o| pair(&o.value).is_some())
        && invokes.iter().any(|o| pair(&o.value).is_some_and(|inner| inner.is_null() || inner.is_array()))
}

/// Unpacks Jepsen's independent `[key value]` values: the key goes to the op's `key` (so the
/// check splits per key, as with a `key` field) and the value becomes the inner one. A
/// completion whose value is not a pair (a crash's nil) takes its invoke's key. Anything else
/// that is not a pair is an error naming its line.
pub fn unpack_independent(history: &mut History) -> Result<(), HistoryError> {
    let mut pending: std::collections::HashMap<Process, Key> = std::collections::HashMap::new();
    let source = history.source.clone();
    for (i, op) in history.ops.iter_mut().enumerate() {
        if !op.is_client() {
            continue;
        }
        let line = history.lines.get(i).copied().unwrap_or(0);
        if op.key.is_some() {
            return Err(HistoryError::at(&source, line, Some("key"), "an op with a `key` field in a history of [key value] tuples"));
        }
        let tuple = match op.value.as_array() {
            Some(items) if items.len() == 2 => Some((items[0].clone(), items[1].clone())),
            _ => None,
        };
        match tuple {
            Some((key, inner)) => {
                let key = match key {
                    serde_json::Value::Number(n) if n.as_i64().is_some() => Key::Int(n.as_i64().unwrap_or_default()),
                    serde_json::Value::String(s) => Key::Str(s),
                    other => {
                        return Err(HistoryError::at(
                            &source,
                            line,
                            Some("value"),
                            format!("the key of an independent [key value] pair must be an integer or a string, found {other}"),
                        ))
                    }
                };
                op.key = Some(key.clone());
                op.value = inner;
                if op.kind == OpType::Invoke {
                    pending.insert(op.process.clone(), key);
                } else {
                    pending.remove(&op.process);
                }
            }
            None if op.kind != OpType::Invoke => match pending.remove(&op.process) {
                Some(key) => op.key = Some(key),
                None => {
                    return Err(HistoryError::at(
                        &source,
                        line,
                        Some("value"),
                        format!("expected an independent [key value] pair, found {}", op.value),
                    ))
                }
            },
            None => {
                return Err(HistoryError::at(
                    &source,
                    line,
                    Some("value"),
                    format!("expected an independent [key value] pair, found {}", op.value),
                ))
            }
        }
    }
    Ok(())
}

/// Whether a log line mentions the op logger or an op type as a word.
fn mentions_an_op(line: &str) -> bool {
    line.contains("jepsen.util") || line.split_whitespace().any(|w| matches!(w, ":invoke" | ":ok" | ":fail" | ":info"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(Format::detect("x.jsonl", ""), Some(Format::Jsonl));
        assert_eq!(Format::detect("x", "{\"type\":\"invoke\"}"), Some(Format::Jsonl));
        assert_eq!(Format::detect("x.log", "INFO  jepsen.util - 3\t:invoke\t:read\tnil"), Some(Format::PorcupineEtcd));
        assert_eq!(Format::detect("x.txt", "{:process 0, :type :invoke, :f :append, :key \"0\"}"), Some(Format::PorcupineKv));
        assert_eq!(Format::detect("x.edn", "; c\n[{:process 0 :type :invoke :f :read}]"), Some(Format::Edn));
        assert_eq!(Format::detect("x", "hello"), None);
        assert_eq!("edn".parse::<Format>(), Ok(Format::Edn));
        assert!("xml".parse::<Format>().unwrap_err().contains("porcupine-kv"));
    }

    #[test]
    fn reads_jepsen_log_lines() {
        let text = "INFO  jepsen.util - 3\t:invoke\t:cas\t[3 0]\n\
                    INFO  jepsen.util - 3\t:info\t:cas\t:timed-out\n\
                    INFO  jepsen.util - 4\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 4\t:fail\t:read\t:timed-out\n\
                    INFO  jepsen.core - some other chatter\n\
                    INFO  jepsen.util - 5\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 5\t:ok\t:read\t2\n";
        let h = read_jepsen_log("e.log", text).unwrap();
        assert_eq!(h.ops.len(), 6);
        assert_eq!(h.ops[0].value, serde_json::json!([3, 0]));
        assert_eq!((h.ops[1].kind, h.ops[1].error.clone()), (OpType::Info, Some("timed-out".into())));
        assert_eq!(h.ops[3].kind, OpType::Info, "a timed-out read is indeterminate");
        assert_eq!(h.ops[5].value, serde_json::json!(2));
        assert_eq!(h.lines, vec![1, 2, 3, 4, 6, 7]);
        assert_eq!(h.skipped_lines, vec![5], "the chatter line is counted");
        let e = read_jepsen_log("e.log", "INFO  jepsen.util - x\t:invoke\t:read\tnil\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("process")));
    }

    /// Issue 10: damaged op lines were skipped as chatter, and a history that lost the read
    /// proving it invalid came back valid.
    #[test]
    fn damaged_op_lines_are_errors_not_chatter() {
        for damaged in [
            "INFO  jepsen.util 4\t:ok\t:read\t2",  // the " - " separator is gone
            "INFO  jepsen.utl - 4\t:ok\t:read\t2", // the logger's name is damaged
            "INFO - 4 :ok :read 2",                // no logger at all
            "4x :ok :read 2",                      // a damaged process number
        ] {
            let text = format!("INFO  jepsen.util - 4\t:invoke\t:read\tnil\n{damaged}\n");
            let e = read_jepsen_log("e.log", &text).expect_err(damaged);
            assert_eq!(e.line, Some(2), "{damaged}: {e}");
        }
    }

    /// Jepsen's independent workloads write `[key value]` tuples; unpacked, they split per key.
    #[test]
    fn independent_tuples_are_unpacked_into_keys() {
        let text = "[{:process 0, :type :invoke, :f :cas, :value [3 [1 2]]}\n {:process 0, :type :ok, :f :cas, :value [3 [1 2]]}\n \
                    {:process 1, :type :invoke, :f :read, :value [4 nil]}\n {:process 1, :type :info, :f :read, :value nil}]";
        let mut h = read_edn("i.edn", text).unwrap();
        assert!(looks_independent(&h));
        unpack_independent(&mut h).unwrap();
        assert_eq!(h.ops[0].key, Some(Key::Int(3)));
        assert_eq!(h.ops[0].value, serde_json::json!([1, 2]));
        assert_eq!(h.ops[3].key, Some(Key::Int(4)), "a crash's nil takes its invoke's key");
        // A plain cas-only history is not taken for an independent one.
        let plain =
            read_edn("p.edn", "[{:process 0, :type :invoke, :f :cas, :value [1 2]} {:process 0, :type :ok, :f :cas, :value [1 2]}]")
                .unwrap();
        assert!(!looks_independent(&plain));
        let mut bad =
            read_edn("b.edn", "[{:process 0, :type :invoke, :f :read, :value [1 nil]} {:process 2, :type :invoke, :f :write, :value 5}]")
                .unwrap();
        let e = unpack_independent(&mut bad).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("value")));
    }

    #[test]
    fn reads_edn_vectors_and_streams() {
        let vector =
            "; a comment\n[{:process 0, :type :invoke, :f :cas, :value [1 2]}\n\n {:process 0,\n  :type :ok, :f :cas, :value [1 2]}]\n";
        let h = read_edn("h.edn", vector).unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[1].index, 1);
        assert_eq!(h.lines, vec![2, 4], "each op keeps the line it starts on");
        let e = read_edn("h.edn", "[{:process 0, :type :invoke, :f :read}] {:process 1}").unwrap_err();
        assert!(e.message.contains("after the history's closing"), "{e}");
        let stream = "{:process 0, :type :invoke, :f :read, :value nil, :time 10}\n{:process :nemesis, :type :info, :f :start, :value nil, :time 20}\n";
        let h = read_edn("h.edn", stream).unwrap();
        assert_eq!(h.ops[1].process, Process::Nemesis);
        // Issue 10: a process named anything but nemesis was skipped silently by the checker.
        let e = read_edn("h.edn", "{:process :b, :type :invoke, :f :read}\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("process"), "{e}");
        assert_eq!(h.ops[1].time, 20);
        let e = read_edn("h.edn", "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :done, :f :read}\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("type")));
        let e = read_edn("h.edn", "{:process 0, :type :invoke}\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("f"));
    }
}
