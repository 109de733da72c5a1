//! The acceptor's durable state: per key, the highest ballot promised, the ballot and value last
//! accepted, and (for the lease bug) who holds a lease until when. Every change is appended to
//! `acceptor.log` and fsync'd before the acceptor answers; at start the log is replayed. With
//! the `lazy-fsync` bug, changes are only written out once a second.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A proposal number: rounds first, the proposing node breaks ties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// Round number.
    pub round: u64,
    /// The proposer's node number (1-based; 0 means "none").
    pub node: u32,
}

/// One key's acceptor state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Slot {
    /// Highest ballot promised.
    pub promised: Ballot,
    /// Ballot of the accepted value.
    pub accepted: Ballot,
    /// The accepted value (null: none yet).
    pub value: Value,
    /// `lease-read` bug: the node holding a lease on this key, and until when (ms, this node's
    /// clock).
    #[serde(default)]
    pub lease: Option<(u32, u64)>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    key: String,
    slot: Slot,
}

/// All keys' acceptor state, with its log.
pub struct Storage {
    slots: HashMap<String, Slot>,
    log: File,
    lazy: bool,
    pending: Vec<u8>,
}

impl Storage {
    /// Opens (replaying) `dir/acceptor.log`.
    pub fn open(dir: &Path, lazy: bool) -> std::io::Result<Storage> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("acceptor.log");
        let mut slots = HashMap::new();
        if let Ok(file) = File::open(&path) {
            for line in BufReader::new(file).lines() {
                // A torn last line (a crash mid-write) is ignored: it was never acknowledged.
                if let Ok(record) = serde_json::from_str::<Record>(&line?) {
                    slots.insert(record.key, record.slot);
                }
            }
        }
        let log = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Storage { slots, log, lazy, pending: Vec::new() })
    }

    /// A key's state.
    pub fn get(&self, key: &str) -> Slot {
        self.slots.get(key).cloned().unwrap_or_default()
    }

    /// Records a key's new state durably (or, with the lazy bug, in memory until the next flush).
    pub fn put(&mut self, key: &str, slot: Slot) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&Record { key: key.to_string(), slot: slot.clone() }).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.slots.insert(key.to_string(), slot);
        if self.lazy {
            self.pending.extend_from_slice(&line);
            return Ok(());
        }
        self.log.write_all(&line)?;
        self.log.sync_data()
    }

    /// Writes out what the lazy bug held back.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.log.write_all(&self.pending)?;
        self.pending.clear();
        self.log.sync_data()
    }
}
