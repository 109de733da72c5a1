//! Transactional anomalies in list-append histories, as Elle finds them (Kingsbury & Alvaro,
//! "Elle: Inferring Isolation Anomalies from Experimental Observations", VLDB 2020).
//!
//! Every transaction appends unique values to lists and reads whole lists, so a read names
//! exactly the appends it saw, in order. From the longest read of each key the checker takes
//! that key's version order (every other read must be a prefix of it), and from it the
//! dependencies between committed transactions: `ww` (T2 appended right after T1), `wr` (T2
//! read T1's append as the last element) and `rw` (T1 read the list without the append T2 made
//! next) — plus process order and real-time order when the consistency model asks for them.
//! A cycle in that graph means no serial order of the transactions explains what they read;
//! the cycle's edges name the anomaly (Adya's G0, G1c, G-single, G2-item, and Elle's
//! G-nonadjacent). Some anomalies need no cycle: an aborted read (G1a), an intermediate read
//! (G1b), a transaction that does not see its own appends (internal), reads that no single
//! order explains (incompatible order), a value read twice or never appended.
//!
//! Indeterminate (`info`) transactions may or may not have committed: one whose append is
//! read did commit, and joins the graph; the others are left out (they constrain nothing).

mod cycles;
mod explain;
mod orders;
pub(crate) mod txns;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use history::{History, HistoryError, Key, Outcome, Validity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::CheckDetail;

pub use txns::TXN;

/// The isolation level a history is checked against: which anomalies it forbids, and whether
/// process and real-time order count as dependencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsistencyModel {
    /// Forbids G0, G1a, G1b, G1c (Adya's PL-2).
    ReadCommitted,
    /// Also forbids G-single and G-nonadjacent; allows write skew (G2-item with adjacent
    /// anti-dependencies).
    SnapshotIsolation,
    /// Forbids every cycle of data dependencies (Adya's PL-3).
    Serializable,
    /// Serializable, and each process's transactions take effect in the order it ran them.
    StrongSessionSerializable,
    /// Serializable, and a transaction that completed before another began precedes it.
    StrictSerializable,
}

impl ConsistencyModel {
    /// Every model: its name and what it forbids.
    pub const ALL: [ConsistencyModel; 5] = [
        ConsistencyModel::ReadCommitted,
        ConsistencyModel::SnapshotIsolation,
        ConsistencyModel::Serializable,
        ConsistencyModel::StrongSessionSerializable,
        ConsistencyModel::StrictSerializable,
    ];

    /// The name `--consistency-model` takes.
    pub fn name(self) -> &'static str {
        match self {
            ConsistencyModel::ReadCommitted => "read-committed",
            ConsistencyModel::SnapshotIsolation => "snapshot-isolation",
            ConsistencyModel::Serializable => "serializable",
            ConsistencyModel::StrongSessionSerializable => "strong-session-serializable",
            ConsistencyModel::StrictSerializable => "strict-serializable",
        }
    }

    /// Whether the model forbids an anomaly of `class`.
    pub fn forbids(self, class: Class) -> bool {
        use ConsistencyModel::*;
        match class {
            Class::G0 | Class::G1a | Class::G1b | Class::G1c => true,
            Class::Internal | Class::IncompatibleOrder | Class::DuplicateElements | Class::GarbageRead => true,
            Class::GSingle | Class::GNonadjacent => self != ReadCommitted,
            Class::G2Item => !matches!(self, ReadCommitted | SnapshotIsolation),
        }
    }

    /// The extra orders (besides data dependencies) the model adds to the graph.
    fn extra_edges(self) -> u8 {
        match self {
            ConsistencyModel::StrictSerializable => cycles::REALTIME | cycles::PROCESS,
            ConsistencyModel::StrongSessionSerializable => cycles::PROCESS,
            _ => 0,
        }
    }
}

impl std::str::FromStr for ConsistencyModel {
    type Err = String;
    fn from_str(s: &str) -> Result<ConsistencyModel, String> {
        ConsistencyModel::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("`{s}` is not a consistency model; one of {}", ConsistencyModel::ALL.map(|m| m.name()).join(", ")))
    }
}

impl fmt::Display for ConsistencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Kinds of anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A cycle of write-write dependencies only (dirty write).
    G0,
    /// A read of an append made by a transaction that failed (aborted read).
    G1a,
    /// A read ending in an append that its transaction followed with another to the same key
    /// (intermediate read).
    G1b,
    /// A cycle of write-write and write-read dependencies (circular information flow).
    G1c,
    /// A cycle with exactly one read-write anti-dependency (read skew).
    GSingle,
    /// A cycle with several anti-dependencies, no two in a row.
    GNonadjacent,
    /// A cycle with several anti-dependencies (write skew and kin).
    G2Item,
    /// A transaction's read disagrees with its own earlier reads and appends.
    Internal,
    /// Two reads of a key that are not prefixes of one order.
    IncompatibleOrder,
    /// A read that holds a value twice.
    DuplicateElements,
    /// A read of a value nobody appended.
    GarbageRead,
}

impl Class {
    /// Elle's name.
    pub fn name(self) -> &'static str {
        match self {
            Class::G0 => "G0",
            Class::G1a => "G1a",
            Class::G1b => "G1b",
            Class::G1c => "G1c",
            Class::GSingle => "G-single",
            Class::GNonadjacent => "G-nonadjacent",
            Class::G2Item => "G2-item",
            Class::Internal => "internal",
            Class::IncompatibleOrder => "incompatible-order",
            Class::DuplicateElements => "duplicate-elements",
            Class::GarbageRead => "garbage-read",
        }
    }

    /// What it is, in a few words.
    pub fn meaning(self) -> &'static str {
        match self {
            Class::G0 => "dirty write: a cycle of write-write dependencies",
            Class::G1a => "aborted read: a failed transaction's append was read",
            Class::G1b => "intermediate read: a read saw a transaction's append but not its later one",
            Class::G1c => "circular information flow: a cycle of write-write and write-read dependencies",
            Class::GSingle => "read skew: a cycle with exactly one anti-dependency",
            Class::GNonadjacent => "a cycle with several anti-dependencies, none adjacent",
            Class::G2Item => "write skew: a cycle with several anti-dependencies",
            Class::Internal => "a transaction did not see its own earlier reads and appends",
            Class::IncompatibleOrder => "two reads of a key that no one order of appends explains",
            Class::DuplicateElements => "a value appears twice in one read",
            Class::GarbageRead => "a read holds a value that no transaction appended",
        }
    }
}

/// What made a cycle possible besides data dependencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// Data dependencies only (or no cycle at all).
    Data,
    /// Also process order.
    Process,
    /// Also real-time order.
    Realtime,
}

/// One dependency between transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The second appended to a key right after the first.
    Ww,
    /// The second read the first's append as the last element.
    Wr,
    /// The first read a list without the append the second made next (anti-dependency).
    Rw,
    /// Same process, the first ran first.
    Process,
    /// The first completed before the second was invoked.
    Realtime,
}

/// A transaction named in an anomaly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnInfo {
    /// `T1`, `T2`, … within the anomaly.
    pub name: String,
    /// The `index` of its invoke.
    pub index: u64,
    /// The `index` of its completion, if it completed.
    pub completion: Option<u64>,
    /// When it was invoked, ns since the start.
    pub time: u64,
    /// Its process.
    pub process: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Its micro-ops (with the reads' lists when it completed `ok`).
    pub value: Value,
}

/// One edge of a cycle: `txns[from]` precedes `txns[to]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Position in the anomaly's `txns`.
    pub from: usize,
    /// Position in the anomaly's `txns`.
    pub to: usize,
    /// Why.
    pub relation: Relation,
    /// The key the dependency is on (data dependencies).
    pub key: Option<Key>,
    /// The reason in words.
    pub because: String,
}

/// One anomaly, explained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Its kind.
    pub class: Class,
    /// What made its cycle possible.
    pub via: Via,
    /// Whether the model checked against forbids it.
    pub prohibited: bool,
    /// The transactions involved.
    pub txns: Vec<TxnInfo>,
    /// The cycle, edge by edge (empty for an anomaly that needs no cycle).
    pub cycle: Vec<Step>,
    /// The explanation, step by step.
    pub explanation: Vec<String>,
}

impl Anomaly {
    /// Elle's name with its suffix: `G-single-realtime`.
    pub fn name(&self) -> String {
        anomaly_name(self.class, self.via)
    }

    /// When the last of its transactions began (ns since the start): the anomaly could not
    /// have been seen before.
    pub fn time(&self) -> u64 {
        self.txns.iter().map(|t| t.time).max().unwrap_or(0)
    }
}

/// `G-single`, `G0-realtime`, `G1c-process`.
pub fn anomaly_name(class: Class, via: Via) -> String {
    match via {
        Via::Data => class.name().to_string(),
        Via::Process => format!("{}-process", class.name()),
        Via::Realtime => format!("{}-realtime", class.name()),
    }
}

/// What the list-append checker found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElleResult {
    /// The model checked against.
    pub model: ConsistencyModel,
    /// Transactions that completed ok / failed / were indeterminate.
    pub txns: [usize; 3],
    /// Indeterminate transactions whose appends were read (so they committed).
    pub info_committed: usize,
    /// Keys.
    pub keys: usize,
    /// Edges of the dependency graph (pairs of transactions).
    pub edges: usize,
    /// Groups of transactions that depend on each other in a circle (strongly connected
    /// components of more than one), and the largest.
    pub components: usize,
    /// Transactions in the largest such group.
    pub largest_component: usize,
    /// How many of each anomaly were found, by name (`G-single-realtime`).
    pub counts: BTreeMap<String, usize>,
    /// The anomalies, at most [`LISTED`] of each name, explained.
    pub anomalies: Vec<Anomaly>,
    /// The names of the found anomalies that the model forbids.
    pub prohibited: Vec<String>,
    /// Why the answer is `unknown`, when it is.
    pub cause: Option<String>,
    /// Milliseconds the check took.
    pub millis: f64,
}

/// Anomalies of one name that are explained in full; the rest are counted.
pub const LISTED: usize = 5;

/// The list-append checker.
pub struct ListAppend {
    /// The model to check against.
    pub model: ConsistencyModel,
}

impl Checker for ListAppend {
    fn name(&self) -> &'static str {
        "list-append"
    }

    fn check(&self, history: &History, options: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let started = Instant::now();
        let txns = txns::read(history)?;
        let mut found = Found::default();
        let mut r = ElleResult {
            model: self.model,
            txns: [0; 3],
            info_committed: 0,
            keys: txns.keys.len(),
            edges: 0,
            components: 0,
            largest_component: 0,
            counts: BTreeMap::new(),
            anomalies: Vec::new(),
            prohibited: Vec::new(),
            cause: None,
            millis: 0.0,
        };
        for t in &txns.txns {
            r.txns[match t.outcome {
                Outcome::Ok => 0,
                Outcome::Fail => 1,
                Outcome::Info => 2,
            }] += 1;
        }
        let budget = cycles::Budget::new(started, options);
        let search = cycles::Search::run(&txns, self.model.extra_edges(), &budget, options.max_memory, &mut found);
        r.info_committed = search.info_committed;
        r.edges = search.edges;
        r.components = search.components;
        r.largest_component = search.largest;
        // Name the transactions and explain, now that the search is over.
        for (class, via, members) in found.cycles.iter().chain(found.others.iter()) {
            let key = anomaly_name(*class, *via);
            let count = r.counts.entry(key).or_insert(0);
            *count += 1;
            if *count <= LISTED {
                r.anomalies.push(explain::anomaly(history, &txns, &search, *class, *via, members, self.model.forbids(*class)));
            }
        }
        r.prohibited =
            r.anomalies.iter().filter(|a| a.prohibited).map(Anomaly::name).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        r.cause = search.cut_short.clone();
        if r.cause.is_none() && !search.exhaustive && self.model.forbids(Class::GSingle) && !self.model.forbids(Class::G2Item) {
            r.cause = Some(format!(
                "search budget: a component had more than {} anti-dependencies to try; whether it holds a G-single or G-nonadjacent cycle is unknown",
                cycles::MAX_ATTEMPTS
            ));
        }
        r.millis = started.elapsed().as_secs_f64() * 1e3;
        let valid = if !r.prohibited.is_empty() {
            Validity::Invalid
        } else if r.cause.is_some() {
            Validity::Unknown
        } else if r.txns[0] == 0 {
            r.cause = Some("no transaction completed ok: nothing to check".into());
            Validity::Unknown
        } else {
            Validity::Valid
        };
        Ok(CheckResult { valid, detail: CheckDetail::ListAppend(r) })
    }
}

/// What the search found, before it is explained: for a cycle, the transactions in cycle
/// order with the relation from each to the next; for the others, the transactions involved
/// and the key.
#[derive(Default)]
pub(crate) struct Found {
    pub cycles: Vec<(Class, Via, Members)>,
    pub others: Vec<(Class, Via, Members)>,
}

/// The transactions of one anomaly (ids into `Txns::txns`).
#[derive(Clone, Debug)]
pub(crate) enum Members {
    /// `(txn, relation to the next)`, the last relation closing the cycle.
    Cycle(Vec<(u32, Relation)>),
    /// Transactions and the key concerned.
    Txns(Vec<u32>, u32),
}

#[cfg(test)]
mod tests;
