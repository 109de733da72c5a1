//! `history.jsonl` while the test runs: one line per op, in the order the runner recorded
//! them, flushed at least every second (the runner asks) so that a run that crashes keeps what
//! it recorded. The first write error is kept and every later write refused, so the caller can
//! stop the test at once and say the file is incomplete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use history::Op;

/// An open history file.
pub struct HistoryFile {
    path: PathBuf,
    out: BufWriter<File>,
    lines: u64,
    failed: bool,
}

impl HistoryFile {
    /// Creates `path`, which must not exist yet (a run directory is new).
    pub fn create(path: &Path) -> io::Result<HistoryFile> {
        let file = File::options().write(true).create_new(true).open(path)?;
        Ok(HistoryFile { path: path.to_path_buf(), out: BufWriter::new(file), lines: 0, failed: false })
    }

    /// Appends one op as a line. After an error every call fails.
    pub fn append(&mut self, op: &Op) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("an earlier write failed"));
        }
        let written = serde_json::to_writer(&mut self.out, op).map_err(io::Error::other).and_then(|_| self.out.write_all(b"\n"));
        self.failed = written.is_err();
        self.lines += u64::from(written.is_ok());
        written
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("an earlier write failed"));
        }
        let flushed = self.out.flush().and_then(|_| self.out.get_ref().sync_data());
        self.failed = flushed.is_err();
        flushed
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::{History, OpType, Process};

    #[test]
    fn writes_lines_that_read_back() {
        let path = std::env::temp_dir().join(format!("faultline-hf-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut file = HistoryFile::create(&path).unwrap();
        let op = |index, kind| Op {
            index,
            kind,
            process: Process::Client(0),
            f: "read".into(),
            key: None,
            value: serde_json::Value::Null,
            time: index * 10,
            node: Some("n1".into()),
            error: None,
        };
        let (a, b) = (op(0, OpType::Invoke), op(1, OpType::Ok));
        file.append(&a).unwrap();
        file.append(&b).unwrap();
        file.flush().unwrap();
        // Flushed: the file already holds both lines while the test is still "running".
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(History::read_jsonl("h", text.as_bytes()).unwrap().ops, vec![a, b]);
        assert_eq!(file.lines(), 2);
        // A run directory is new: an existing file is never appended to.
        assert!(HistoryFile::create(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
