//! The bundled KV node: a register per key, replicated with CASPaxos (Rystsov 2018): every node
//! proposes and accepts, there is no leader. A client request is one round: prepare to all
//! nodes, take the value with the highest accepted ballot from a majority, apply the change
//! (read: none; write; compare-and-set), accept it on a majority, answer. The acceptor's promise
//! and accepted value are on disk (fsync'd) before it answers.
//!
//! HTTP API (JSON): `POST /kv/read {"key"}`, `/kv/write {"key","value"}`,
//! `/kv/cas {"key","from","to"}` → 200 `{"ok":true,"value":…}` or `{"ok":false}` (cas compare
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

mod node;
mod storage;

pub use node::{run, Bug, NodeArgs};
