//! Writes `history.jsonl` while the test runs. Each op gets its index and time under one lock,
//! so the file's order is the order things happened; the file is flushed at least every second,
//! so a run that crashes keeps what it recorded.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use checkers::history::{History, Op};

/// The history of a running test.
pub struct HistoryWriter {
    start: Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    out: BufWriter<File>,
    ops: Vec<Op>,
    last_flush: Instant,
    error: Option<io::Error>,
}

/// How often the file is flushed at least.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

impl HistoryWriter {
    /// Creates (truncates) `path`. Times are measured from `start`, the test's start.
    pub fn create(path: &Path, start: Instant) -> io::Result<HistoryWriter> {
        let out = BufWriter::new(File::create(path)?);
        Ok(HistoryWriter {
            start,
            inner: Mutex::new(Inner { out, ops: Vec::new(), last_flush: Instant::now(), error: None }),
        })
    }

    /// Stamps `op` with the next index and the time now, appends it, and returns it.
    pub fn record(&self, mut op: Op) -> Op {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        op.index = inner.ops.len() as u64;
        op.time = self.start.elapsed().as_nanos() as u64;
        if inner.error.is_none() {
            let line = serde_json::to_vec(&op).map_err(io::Error::other);
            let written = line.and_then(|l| {
                inner.out.write_all(&l)?;
                inner.out.write_all(b"\n")
            });
            if let Err(e) = written {
                inner.error = Some(e);
            }
            if inner.last_flush.elapsed() >= FLUSH_EVERY {
                inner.flush();
            }
        }
        inner.ops.push(op.clone());
        op
    }

    /// Nanoseconds since the test started.
    pub fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Writes out what is buffered (the runner calls this every second).
    pub fn flush(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).flush();
    }

    /// The keys of the client ops recorded so far, in first-use order (with repeats removed).
    pub fn keys(&self) -> Vec<checkers::history::Key> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = std::collections::BTreeSet::new();
        inner.ops.iter().filter_map(|o| o.key.clone()).filter(|k| seen.insert(k.clone())).collect()
    }

    /// Ops recorded so far.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).ops.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flushes and returns the history; the first write error, if any, is returned instead.
    pub fn finish(self, source: &str) -> io::Result<History> {
        let mut inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        inner.flush();
        if let Some(e) = inner.error.take() {
            return Err(e);
        }
        Ok(History::from_ops(source, std::mem::take(&mut inner.ops)))
    }
}

impl Inner {
    fn flush(&mut self) {
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert(e);
        }
        self.last_flush = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkers::history::{OpType, Process};

    #[test]
    fn stamps_indexes_and_writes_lines_that_read_back() {
        let path = std::env::temp_dir().join(format!("faultline-hw-{}.jsonl", std::process::id()));
        let w = HistoryWriter::create(&path, Instant::now()).unwrap();
        let op = |kind| Op {
            index: 99,
            kind,
            process: Process::Client(0),
            f: "read".into(),
            key: None,
            value: serde_json::Value::Null,
            time: 0,
            node: Some("n1".into()),
            error: None,
        };
        let a = w.record(op(OpType::Invoke));
        let b = w.record(op(OpType::Ok));
        assert_eq!((a.index, b.index), (0, 1));
        assert!(b.time >= a.time);
        w.flush();
        // Flushed: the file already holds both lines while the test is still "running".
        let text = std::fs::read_to_string(&path).unwrap();
        let read = History::read_jsonl("h", text.as_bytes()).unwrap();
        assert_eq!(read.ops, vec![a, b]);
        let h = w.finish("h").unwrap();
        assert_eq!(h.ops.len(), 2);
        std::fs::remove_file(&path).unwrap();
    }
}
