//! The system under test, one node at a time (Jepsen's DB protocol). Starting, killing,
//! pausing and resuming a node are the same for every target (a process in a namespace, see
//! [`crate::cluster`]); a target says how to start a node, when it is ready, and how to talk
//! to it. A new target is one file in `targets/` implementing this trait.

use std::future::Future;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use workloads::Client;

/// One member of the cluster.
#[derive(Clone, Debug)]
pub struct Node {
    /// `n1`, `n2`, …
    pub name: String,
    /// Its network namespace.
    pub namespace: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its data directory (kept across kills and restarts).
    pub data_dir: PathBuf,
    /// Its log file (in the run directory).
    pub log: PathBuf,
}

/// How to start a node's process.
#[derive(Clone, Debug)]
pub struct StartCommand {
    /// The program.
    pub program: String,
    /// Its arguments (an argument vector, never a shell string).
    pub args: Vec<String>,
    /// Extra environment variables.
    pub envs: Vec<(String, String)>,
}

/// A target.
pub trait Db: Send + Sync + 'static {
    /// The client the workloads use against it.
    type Client: Client;

    /// `etcd`, `bundled`, …
    fn name(&self) -> &'static str;

    /// The node binary (checked before the run; its version goes into test.json).
    fn program(&self) -> &str;

    /// The Debian package that provides the program (installed when it is missing).
    fn package(&self) -> &'static str;

    /// The command that starts `node` as a member of `cluster`, on its existing data dir if any.
    fn start_command(&self, node: &Node, cluster: &[Node]) -> StartCommand;

    /// `Ok` once the node serves clients; `Err` says what is still missing.
    fn ready(&self, node: &Node) -> impl Future<Output = Result<(), String>> + Send;

    /// A client of `node`, each request bounded by `timeout`.
    fn client(&self, node: &Node, timeout: Duration) -> anyhow::Result<Self::Client>;

    /// The nodes that lead right now (indices into `nodes`), for faults aimed at primaries.
    /// Targets without a leader return none.
    fn primaries(&self, _nodes: &[Node]) -> impl Future<Output = Vec<usize>> + Send {
        async { Vec::new() }
    }

    /// The program's version, for test.json.
    fn version(&self) -> Option<String> {
        let out = std::process::Command::new(self.program()).arg("--version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().next().map(|l| l.trim().to_string())
    }
}
