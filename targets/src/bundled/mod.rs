//! The bundled target: faultline's own replicated KV node (run as `faultline kv-node`, built
//! with faultline: nothing to install), a libc binary (clock faults can skew it), leaderless
//! (it has no primaries).
//!
//! The node: a register per key, replicated with CASPaxos (Rystsov 2018): every node
//! proposes and accepts, there is no leader. A client request is one round: prepare to all
//! nodes, take the value with the highest accepted ballot from a majority, apply the change
//! (read: none; write; compare-and-set), accept it on a majority, answer. The acceptor's promise
//! and accepted value are on disk (fsync'd) before it answers.
//!
//! HTTP API (JSON): `POST /kv/read {"key"}`, `/kv/write {"key","value"}`,
//! `/kv/cas {"key","from","to"}`, `/kv/txn {"key": table, "read": [fields], "compare": {field:
//! value}, "set": {field: value}}` (a transaction over the fields of a table, which is one
//! register holding an object: one round), or `/kv/txn {"key": table, "ops": [["append", field,
//! v], ["r", field, null]]}` (list micro-ops in order; the value is each read's list) → 200 `{"ok":true,"value":…}` or `{"ok":false}` (cas compare
//! failed); 503 `{"error":…,"applied":false}` when the change certainly did not happen; 500
//! `{"error":…,"applied":null}` when it may have. Peers use `/paxos/prepare` and
//! `/paxos/accept`; `/status` answers when the node is up.
//!
//! Bugs, off by default (`--bug NAME`, repeatable), each with the anomaly it causes:
//! - `stale-read`: reads are answered from the local acceptor without a quorum round: stale
//!   reads when the node is partitioned away or just lagging.
//! - `lazy-fsync`: the acceptor answers before its state is on disk (written once a second):
//!   a SIGKILL loses promises and accepted values, and with them acknowledged writes.
//! - `small-quorum`: a "majority" one node too small: two sides of a partition both make
//!   progress (split brain), so writes are lost and reads disagree.
//! - `lease-read`: after it writes a key, a node answers reads of it with the value it wrote for
//!   a lease period measured on its own clock, while the acceptors refuse other nodes' proposals
//!   on that key for the lease period measured on theirs. Correct while clocks agree; a node
//!   whose clock falls behind (clock skew) keeps answering after the others have moved on: stale
//!   reads.
//! - `torn-txn`: a multi-key transaction (`/kv/txn`: the bank's transfers, list-append
//!   transactions) runs as one round per key — compare each, then write each; read or append
//!   each — instead of one round on the table, and is reported failed when a later write fails
//!   after earlier ones took effect: concurrent transactions interleave (read skew, G-single),
//!   and a fault mid-transaction leaves it half-applied (money created or destroyed, which the
//!   bank checker sees; appends of a "failed" transaction that are read, G1a).

mod cli;
mod client;
mod node;
mod storage;

pub use cli::NodeCli;
pub use client::BundledClient;
pub use node::{run, Bug, NodeArgs};

use workloads::{BoxFuture, Client, Workload};

use crate::db::{ClientOptions, Db, DbError, Node, NotReady, ProcessSpec, Requirement};

/// The port every node listens on (each in its own namespace).
const PORT: u16 = 8080;

/// The bundled target.
pub struct Bundled {
    /// The faultline binary (the node is its hidden `kv-node` subcommand).
    pub program: String,
    /// Bugs to switch on in every node (`--bug`).
    pub bugs: Vec<Bug>,
}

impl Bundled {
    /// The target, run from the current faultline binary.
    pub fn new(bugs: Vec<Bug>) -> Bundled {
        let program = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "faultline".to_string());
        Bundled { program, bugs }
    }

    fn url(node: &Node) -> String {
        format!("http://{}:{PORT}", node.ip)
    }
}

impl Db for Bundled {
    fn name(&self) -> &str {
        "bundled"
    }

    fn requirements(&self) -> Vec<Requirement> {
        vec![Requirement { program: self.program.clone(), package: None }]
    }

    fn operations(&self) -> Vec<&'static str> {
        vec!["read", "write", "cas", "add", "transfer", "txn"]
    }

    fn processes(&self, node: &Node, cluster: &[Node], _run_id: &str) -> Vec<ProcessSpec> {
        let peers: Vec<String> = cluster.iter().map(|n| format!("{}={}:{PORT}", n.name, n.ip)).collect();
        let mut args = vec![
            "kv-node".to_string(),
            "--name".into(),
            node.name.clone(),
            "--listen".into(),
            format!("{}:{PORT}", node.ip),
            "--peers".into(),
            peers.join(","),
            "--data-dir".into(),
            node.data_dir.display().to_string(),
        ];
        for bug in &self.bugs {
            args.push("--bug".into());
            args.push(bug.name().to_string());
        }
        vec![ProcessSpec {
            name: "node".into(),
            program: self.program.clone(),
            args,
            envs: Vec::new(),
            files: Vec::new(),
            stop_signal: None,
        }]
    }

    fn ready<'a>(&'a self, node: &'a Node, _cluster: &'a [Node]) -> BoxFuture<'a, Result<(), NotReady>> {
        Box::pin(async move {
            let http =
                reqwest::Client::builder().timeout(std::time::Duration::from_millis(500)).no_proxy().build().map_err(NotReady::because)?;
            let r =
                http.post(format!("{}/status", Self::url(node))).json(&serde_json::json!({})).send().await.map_err(NotReady::because)?;
            if r.status().is_success() {
                Ok(())
            } else {
                Err(NotReady(format!("status {}", r.status())))
            }
        })
    }

    fn client(&self, workload: &dyn Workload, node: &Node, options: &ClientOptions) -> Result<Box<dyn Client>, DbError> {
        self.supports(workload)?;
        let client = BundledClient::new(&Self::url(node), workload.name(), options.timeout)
            .map_err(|e| DbError::Client { node: node.name.clone(), message: e.to_string() })?;
        Ok(Box::new(client))
    }

    fn version(&self) -> Option<String> {
        let bugs: Vec<&str> = self.bugs.iter().map(|b| b.name()).collect();
        let bugs = if bugs.is_empty() { String::new() } else { format!(", bugs: {}", bugs.join(", ")) };
        Some(format!("faultline-kv {} (bundled){bugs}", env!("CARGO_PKG_VERSION")))
    }
}
