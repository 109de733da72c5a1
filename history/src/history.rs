//! The history: one JSON object per line, the contract between the runner, the checkers and the
//! reports (see DESIGN.md). Everything here is plain serde data so that a history can be written
//! while a test runs, read back later, imported from other tools and re-checked.

use std::fmt;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

/// What an entry in the history records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// A client started an operation; `value` carries the argument.
    Invoke,
    /// The operation took effect; `value` carries the result.
    Ok,
    /// The operation definitely did not take effect.
    Fail,
    /// Indeterminate: it may take effect at any time after its invoke, or never.
    Info,
}

impl OpType {
    /// Whether this entry completes an earlier invoke.
    pub fn is_completion(self) -> bool {
        self != OpType::Invoke
    }
}

/// Who performed an op: a client process id, or the nemesis (the fault injector).
///
/// Nothing else is accepted: an op of some other named actor would be ignored by every
/// checker, so a history that has one is refused rather than silently shortened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    /// A client process. After an `info` completion the runner retires the id.
    Client(u64),
    /// The nemesis (`"nemesis"` in JSON, `:nemesis` in EDN); its ops are not checked against a
    /// model.
    Nemesis,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

impl Process {
    /// The process a name stands for: only `nemesis` is one.
    pub fn from_name(name: &str) -> Result<Process, String> {
        match name {
            "nemesis" => Ok(Process::Nemesis),
            other => Err(format!(
                "expected a non-negative integer (a client) or \"nemesis\", found the name {other:?}: ops of other actors would be ignored by the check"
            )),
        }
    }
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Process, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Process;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer (a client) or \"nemesis\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Process, E> {
                Ok(Process::Client(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Process, E> {
                u64::try_from(v)
                    .map(Process::Client)
                    .map_err(|_| E::custom(format!("expected a non-negative integer or \"nemesis\", found {v}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Process, E> {
                Process::from_name(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The independent key an op touches; the linearizability check is split per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    /// An integer key, as Jepsen's independent workloads use.
    Int(i64),
    /// A string key, as the Porcupine kv data uses.
    Str(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(k) => write!(f, "{k}"),
            Key::Str(k) => f.write_str(k),
        }
    }
}

/// One line of `history.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Position in the history, 0.. (filled in from the position when a file leaves it out).
    #[serde(default = "unset_index")]
    pub index: u64,
    /// `invoke`, `ok`, `fail` or `info`.
    #[serde(rename = "type")]
    pub kind: OpType,
    /// Client process id, or `"nemesis"`.
    pub process: Process,
    /// Operation name: `read`, `write`, `cas`, … or a fault name.
    pub f: String,
    /// The independent key, if the workload has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
    /// Argument on invoke, result on completion.
    #[serde(default)]
    pub value: serde_json::Value,
    /// Nanoseconds since the test started (monotonic).
    #[serde(default)]
    pub time: u64,
    /// The node the client talked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Why an op failed or is indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

fn unset_index() -> u64 {
    u64::MAX
}

impl Op {
    /// Whether the op belongs to a client (and so is checked against a model).
    pub fn is_client(&self) -> bool {
        matches!(self.process, Process::Client(_))
    }
}

/// A bad history: where it is bad, which field, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct HistoryError {
    /// The file (or other source name) being read.
    pub file: String,
    /// 1-based line, when the problem has one.
    pub line: Option<u32>,
    /// The field at fault, when there is one.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl HistoryError {
    /// An error about one line of a file.
    pub fn at(file: &str, line: u32, field: Option<&str>, message: impl Into<String>) -> Self {
        HistoryError { file: file.to_string(), line: Some(line), field: field.map(str::to_string), message: message.into() }
    }

    /// An error about a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        HistoryError { file: file.to_string(), line: None, field: None, message: message.into() }
    }
}

/// A history and where each op came from, so that every later error can name a file and line.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The ops, in the order they happened.
    pub ops: Vec<Op>,
    /// The source line of each op (1-based; same length as `ops`).
    pub lines: Vec<u32>,
    /// The file the history was read from, or a name for it.
    pub source: String,
    /// Lines of the file that carry no op and were skipped (log chatter in a Jepsen log), so
    /// that they can be reported: no input is dropped without a word.
    pub skipped_lines: Vec<u32>,
    /// The incomplete last line that was dropped, when asked to (`--allow-torn-tail`: a writer
    /// that crashed mid-line).
    pub torn_line: Option<u32>,
}

/// How a client op ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Took effect between invoke and completion.
    Ok,
    /// Did not take effect.
    Fail,
    /// May take effect at any time after the invoke, or never (also: never completed).
    Info,
}

/// An invoke and its completion, as indices into [`History::ops`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairedOp {
    /// The invoke entry.
    pub invoke: usize,
    /// The completion entry; `None` when the op never completed.
    pub completion: Option<usize>,
    /// `Info` also for an op that never completed.
    pub outcome: Outcome,
}

impl History {
    /// A history built in memory; lines are the positions.
    pub fn from_ops(source: &str, ops: Vec<Op>) -> History {
        let lines = (1..=ops.len() as u32).collect();
        let mut h = History { ops, lines, source: source.to_string(), ..History::default() };
        // Built in memory: an index given twice is the caller's bug, and is left as it is.
        let _ = h.fill_positions();
        h
    }

    /// Parses JSONL text, in parallel for large inputs (parsing is most of the time of checking
    /// a big history). Same result and errors as [`History::read_jsonl`].
    pub fn parse_jsonl(source: &str, text: &str) -> Result<History, HistoryError> {
        History::parse_jsonl_with(source, text, false)
    }

    /// [`History::parse_jsonl`], optionally dropping an incomplete last line (no newline after
    /// it, and not an op): what a writer that crashed mid-line leaves. Anything else that does
    /// not parse stays an error.
    pub fn parse_jsonl_with(source: &str, text: &str, allow_torn_tail: bool) -> Result<History, HistoryError> {
        use rayon::prelude::*;
        const CHUNK: usize = 4 << 20;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (text, torn_line) = match torn_tail(source, text) {
            Some((whole, line)) if allow_torn_tail => (whole, Some(line)),
            Some((_, line)) => {
                let e = torn_error(source, text, line);
                return Err(e);
            }
            None => (text, None),
        };
        if text.len() < 2 * CHUNK || rayon::current_num_threads() == 1 {
            let mut h = History::read_jsonl(source, text.as_bytes())?;
            h.torn_line = torn_line;
            return Ok(h);
        }
        // Split at line ends into pieces of about CHUNK bytes, remembering each piece's first line.
        let mut pieces: Vec<(u32, &str)> = Vec::new();
        let (mut start, mut line) = (0usize, 1u32);
        while start < text.len() {
            let mut end = (start + CHUNK).min(text.len());
            end = match text[end..].find('\n') {
                Some(nl) => end + nl + 1,
                None => text.len(),
            };
            let piece = &text[start..end];
            pieces.push((line, piece));
            line += piece.bytes().filter(|&b| b == b'\n').count() as u32;
            start = end;
        }
        let parsed: Vec<(Vec<Op>, Vec<u32>)> =
            pieces.par_iter().map(|&(first_line, piece)| parse_lines(source, first_line, piece)).collect::<Result<_, _>>()?;
        let mut history = History { source: source.to_string(), ..History::default() };
        history.ops.reserve(parsed.iter().map(|(ops, _)| ops.len()).sum());
        for (ops, lines) in parsed {
            history.ops.extend(ops);
            history.lines.extend(lines);
        }
        if history.ops.is_empty() {
            return Err(HistoryError::file(source, "the history is empty (no ops)"));
        }
        history.torn_line = torn_line;
        history.fill_positions()?;
        Ok(history)
    }

    /// Reads JSONL (`history.jsonl`). Blank lines are skipped; every other line must be an op.
    pub fn read_jsonl(source: &str, mut reader: impl BufRead) -> Result<History, HistoryError> {
        let mut text = String::new();
        reader.read_to_string(&mut text).map_err(|e| HistoryError::file(source, e.to_string()))?;
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let (ops, lines) = parse_lines(source, 1, body)?;
        if ops.is_empty() {
            return Err(HistoryError::file(source, "the history is empty (no ops)"));
        }
        let mut history = History { ops, lines, source: source.to_string(), ..History::default() };
        history.fill_positions()?;
        Ok(history)
    }

    /// Writes the history as JSONL, one op per line.
    pub fn write_jsonl(&self, mut out: impl Write) -> std::io::Result<()> {
        for op in &self.ops {
            serde_json::to_writer(&mut out, op)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// `file:line` of op `i`.
    pub fn location(&self, i: usize) -> String {
        format!("{}:{}", self.source, self.lines.get(i).copied().unwrap_or(0))
    }

    /// An error about op `i`.
    pub fn error_at(&self, i: usize, field: Option<&str>, message: impl Into<String>) -> HistoryError {
        HistoryError::at(&self.source, self.lines.get(i).copied().unwrap_or(0), field, message)
    }

    /// Ops without an index or a time get them from their position (as Knossos does). An
    /// index given twice is an error: reports name ops by their index.
    pub(crate) fn fill_positions(&mut self) -> Result<(), HistoryError> {
        let any_time = self.ops.iter().any(|op| op.time != 0);
        let mut seen = rustc_hash::FxHashSet::default();
        for (i, op) in self.ops.iter_mut().enumerate() {
            if op.index == u64::MAX {
                op.index = i as u64;
            } else if !seen.insert(op.index) {
                let line = self.lines.get(i).copied().unwrap_or(0);
                return Err(HistoryError::at(
                    &self.source,
                    line,
                    Some("index"),
                    format!("index {} is given to an earlier op too", op.index),
                ));
            }
            if !any_time {
                op.time = i as u64;
            }
        }
        Ok(())
    }

    /// What is odd about the history without making it unreadable: `time` going backwards
    /// (the check orders ops by their position in the file, not by `time`).
    pub fn warnings(&self) -> Vec<String> {
        let mut backwards = self.ops.windows(2).enumerate().filter(|(_, w)| w[1].time < w[0].time).map(|(i, _)| i + 1);
        let mut warnings = Vec::new();
        if let Some(first) = backwards.next() {
            let more = backwards.count();
            warnings.push(format!(
                "`time` goes backwards at {}{} (the check orders ops by their position in the file)",
                self.location(first),
                if more > 0 { format!(" and {more} more places") } else { String::new() }
            ));
        }
        if let Some(line) = self.torn_line {
            warnings.push(format!("{}:{line}: an incomplete last line was left out (--allow-torn-tail)", self.source));
        }
        warnings
    }

    /// Matches every client invoke with its completion, following Jepsen's rules: a process has
    /// at most one op in flight; a completion must follow an invoke of the same process and `f`.
    /// An invoke that never completes counts as `info`. Nemesis ops are left out.
    pub fn pair(&self) -> Result<Vec<PairedOp>, HistoryError> {
        // Process → the slot in `paired` of its op in flight.
        let mut pending: rustc_hash::FxHashMap<&Process, usize> = Default::default();
        let mut paired: Vec<PairedOp> = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            if !op.is_client() {
                continue;
            }
            if op.kind == OpType::Invoke {
                if let Some(&slot) = pending.get(&op.process) {
                    return Err(self.error_at(
                        i,
                        Some("process"),
                        format!(
                            "process {} invokes again while its op from {} has not completed",
                            op.process,
                            self.location(paired[slot].invoke)
                        ),
                    ));
                }
                pending.insert(&op.process, paired.len());
                paired.push(PairedOp { invoke: i, completion: None, outcome: Outcome::Info });
                continue;
            }
            let Some(slot) = pending.remove(&op.process) else {
                return Err(self.error_at(
                    i,
                    Some("process"),
                    format!("a `{}` completion for process {} with no invoke before it", type_name(op.kind), op.process),
                ));
            };
            let invoke = paired[slot].invoke;
            if self.ops[invoke].f != op.f {
                return Err(self.error_at(
                    i,
                    Some("f"),
                    format!("the completion says `{}` but its invoke at {} says `{}`", op.f, self.location(invoke), self.ops[invoke].f),
                ));
            }
            paired[slot].completion = Some(i);
            paired[slot].outcome = match op.kind {
                OpType::Ok => Outcome::Ok,
                OpType::Fail => Outcome::Fail,
                _ => Outcome::Info,
            };
        }
        Ok(paired)
    }
}

/// When the text's last line has no newline and is not an op (a writer that crashed
/// mid-line): the text without it, and its line number.
fn torn_tail<'t>(source: &str, text: &'t str) -> Option<(&'t str, u32)> {
    if text.ends_with('\n') || text.trim().is_empty() {
        return None;
    }
    let start = text.rfind('\n').map_or(0, |nl| nl + 1);
    let last = &text[start..];
    if last.trim().is_empty() {
        return None;
    }
    let line = text[..start].bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    parse_op_line(source, line, last).is_err().then_some((&text[..start], line))
}

fn torn_error(source: &str, text: &str, line: u32) -> HistoryError {
    let start = text.rfind('\n').map_or(0, |nl| nl + 1);
    let mut e = parse_op_line(source, line, &text[start..]).err().unwrap_or_else(|| HistoryError::at(source, line, None, "incomplete"));
    e.message.push_str(" — the last line is incomplete (a writer that crashed?): --allow-torn-tail checks the rest");
    e
}

/// Parses the ops of one piece of a JSONL text whose first line is `first_line`.
fn parse_lines(source: &str, first_line: u32, piece: &str) -> Result<(Vec<Op>, Vec<u32>), HistoryError> {
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    for (n, line) in piece.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = first_line + n as u32;
        let op = parse_op_line(source, line_no, line)?;
        ops.push(op);
        lines.push(line_no);
    }
    Ok((ops, lines))
}

fn type_name(t: OpType) -> &'static str {
    match t {
        OpType::Invoke => "invoke",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    }
}

/// One JSONL line as an op; the error names the line, the field and what was expected.
/// Anything but white space after the op's object is an error: two ops glued together by a
/// lost newline must not silently become one.
fn parse_op_line(source: &str, line_no: u32, line: &str) -> Result<Op, HistoryError> {
    let mut de = serde_json::Deserializer::from_str(line);
    let op = parse_op_value(source, line_no, &mut de)?;
    de.end().map_err(|e| {
        HistoryError::at(
            source,
            line_no,
            None,
            format!("unexpected text after the op's JSON object (column {}): one op per line; is a newline missing?", e.column()),
        )
    })?;
    Ok(op)
}

fn parse_op_value(source: &str, line_no: u32, de: &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>) -> Result<Op, HistoryError> {
    serde_path_to_error::deserialize::<_, Op>(de).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != ".").then_some(path);
        let inner = e.into_inner();
        // serde_json says where in the line; the line itself is in the location already.
        let mut message = inner.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
            message.push_str(&format!(" (column {})", inner.column()));
        }
        let hint = match field.as_deref() {
            Some("type") => " (expected one of invoke, ok, fail, info)",
            Some("key") => " (expected an integer or a string)",
            Some("time") | Some("index") => " (expected a non-negative integer)",
            _ => "",
        };
        HistoryError { file: source.to_string(), line: Some(line_no), field, message: format!("{message}{hint}") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<History, HistoryError> {
        History::read_jsonl("h.jsonl", text.as_bytes())
    }

    #[test]
    fn reads_ops_and_pairs_them() {
        let h = read(concat!(
            r#"{"index":0,"type":"invoke","process":0,"f":"write","value":1,"time":5}"#,
            "\n",
            r#"{"index":1,"type":"invoke","process":1,"f":"read","value":null,"time":6}"#,
            "\n",
            "\n",
            r#"{"index":2,"type":"ok","process":0,"f":"write","value":1,"time":7}"#,
            "\n",
            r#"{"index":3,"type":"info","process":"nemesis","f":"partition","value":"halves","time":8}"#,
            "\n",
        ))
        .unwrap();
        assert_eq!(h.ops.len(), 4);
        assert_eq!(h.lines, vec![1, 2, 4, 5]);
        let pairs = h.pair().unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0], PairedOp { invoke: 0, completion: Some(2), outcome: Outcome::Ok });
        // Process 1 never completed: indeterminate.
        assert_eq!(pairs[1], PairedOp { invoke: 1, completion: None, outcome: Outcome::Info });
    }

    #[test]
    fn names_file_line_and_field() {
        let e = read("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"done\",\"process\":0,\"f\":\"read\"}\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().starts_with("h.jsonl:2: "), "{e}");
        assert!(e.to_string().contains("invoke, ok, fail, info"), "{e}");
        assert_eq!(e.field.as_deref(), Some("type"));

        let e = read("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"time\":\"soon\"}\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("time"));
        assert!(e.to_string().starts_with("h.jsonl:1: field `time`: invalid type: string \"soon\""), "{e}");

        let e = read("{\"type\":\"invoke\",\"f\":\"read\"}\n").unwrap_err();
        assert!(e.to_string().contains("missing field `process`"), "{e}");

        let e = read("\n\n").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    /// Issue 10: the second of two ops glued on one line was dropped, and a non-linearizable
    /// history came back valid.
    #[test]
    fn text_after_the_op_on_its_line_is_an_error() {
        let glued = concat!(
            r#"{"type":"invoke","process":0,"f":"read"}"#,
            "\n",
            r#"{"type":"ok","process":0,"f":"read","value":1}{"type":"invoke","process":1,"f":"read"}"#,
            "\n",
        );
        let e = read(glued).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("newline"), "{e}");
        // Trailing white space is fine.
        assert!(read("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}  \t\n").is_ok());
    }

    /// Issue 10: ops of a process named other than "nemesis" were skipped by the check.
    #[test]
    fn processes_are_clients_or_the_nemesis() {
        for bad in [r#""1""#, r#""a""#, "-3", "1.5", "null"] {
            let e = read(&format!("{{\"type\":\"invoke\",\"process\":{bad},\"f\":\"read\"}}\n")).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("process"), "{bad}: {e}");
        }
        let h = read("{\"type\":\"info\",\"process\":\"nemesis\",\"f\":\"start-kill\"}\n").unwrap();
        assert_eq!(h.ops[0].process, Process::Nemesis);
        let mut out = Vec::new();
        h.write_jsonl(&mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains(r#""process":"nemesis""#));
    }

    /// Issue 10, items 15 and 16: a torn last line, a byte-order mark, a repeated index, time
    /// going backwards.
    #[test]
    fn torn_tails_boms_repeated_indexes_and_backwards_time() {
        let ok = "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n";
        let torn = format!("{ok}{{\"type\":\"ok\",\"proc");
        let e = History::parse_jsonl_with("h", &torn, false).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("--allow-torn-tail"), "{e}");
        let h = History::parse_jsonl_with("h", &torn, true).unwrap();
        assert_eq!((h.ops.len(), h.torn_line), (1, Some(2)));
        assert!(h.warnings()[0].contains("h:2: an incomplete last line"), "{:?}", h.warnings());
        // Only the last line, and only when it has no newline: damage elsewhere stays an error.
        assert!(History::parse_jsonl_with("h", &format!("{{\"type\":\"ok\",\"proc\n{ok}"), true).is_err());
        assert!(History::parse_jsonl_with("h", &format!("{ok}{{\"type\":\"ok\",\"proc\n"), true).is_err());

        assert_eq!(History::parse_jsonl("h", &format!("\u{feff}{ok}")).unwrap().ops.len(), 1, "a BOM is accepted");

        let twice =
            "{\"index\":4,\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"index\":4,\"type\":\"ok\",\"process\":0,\"f\":\"read\"}\n";
        let e = History::parse_jsonl("h", twice).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("index")));

        let back =
            "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"time\":9}\n{\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"time\":3}\n";
        let h = History::parse_jsonl("h", back).unwrap();
        assert!(h.warnings()[0].starts_with("`time` goes backwards at h:2"), "{:?}", h.warnings());
    }

    #[test]
    fn completion_contract_is_enforced() {
        let e = read("{\"type\":\"ok\",\"process\":3,\"f\":\"read\"}\n").unwrap().pair().unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("process")));

        let e = read("{\"type\":\"invoke\",\"process\":3,\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":3,\"f\":\"write\"}\n")
            .unwrap()
            .pair()
            .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("f")));

        let e = read("{\"type\":\"invoke\",\"process\":3,\"f\":\"read\"}\n{\"type\":\"invoke\",\"process\":3,\"f\":\"read\"}\n")
            .unwrap()
            .pair()
            .unwrap_err();
        assert!(e.message.contains("still") || e.message.contains("not completed"), "{e}");
    }

    #[test]
    fn missing_index_and_time_come_from_position() {
        let h = read("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"value\":3}\n")
            .unwrap();
        assert_eq!((h.ops[1].index, h.ops[1].time), (1, 1));
    }

    #[test]
    fn parallel_parse_matches_sequential_parse() {
        let mut text = String::from("\n"); // a blank first line shifts every line number by one
        for i in 0..120_000u64 {
            let p = i % 7;
            text.push_str(&format!("{{\"type\":\"invoke\",\"process\":{p},\"f\":\"write\",\"key\":\"k{}\",\"value\":{i}}}\n", i % 13));
            text.push_str(&format!("{{\"type\":\"ok\",\"process\":{p},\"f\":\"write\",\"key\":\"k{}\",\"value\":{i}}}\n", i % 13));
        }
        let fast = History::parse_jsonl("h", &text).unwrap();
        let slow = History::read_jsonl("h", text.as_bytes()).unwrap();
        assert!(text.len() > 8 << 20, "big enough to be split");
        assert_eq!(fast.ops, slow.ops);
        assert_eq!(fast.lines, slow.lines);
        // An error deep in a later piece still names its line.
        let bad_line = slow.lines[slow.lines.len() - 5];
        let mut broken: Vec<&str> = text.lines().collect();
        broken[bad_line as usize - 1] = "{\"type\":\"ok\"}";
        let e = History::parse_jsonl("h", &broken.join("\n")).unwrap_err();
        assert_eq!(e.line, Some(bad_line));
    }

    #[test]
    fn round_trips_through_jsonl() {
        let h = read(
            "{\"index\":0,\"type\":\"invoke\",\"process\":0,\"f\":\"cas\",\"key\":\"k\",\"value\":[1,2],\"time\":3,\"node\":\"n1\"}\n",
        )
        .unwrap();
        let mut out = Vec::new();
        h.write_jsonl(&mut out).unwrap();
        let again = read(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(h.ops, again.ops);
    }
}
