//! The system under test (Jepsen's DB protocol), object-safe so that a target can also be
//! described in a file. Starting, killing, pausing and resuming a node's processes are the same
//! for every target (processes in a namespace, run by the harness); a target says which
//! processes make a node, when a node is ready, who leads, and how to talk to a node.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use workloads::{BoxFuture, Client, Workload};

/// One member of the cluster, as the harness placed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// `n1`, `n2`, …
    pub name: String,
    /// Its network namespace.
    pub namespace: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its data directory (kept across kills and restarts).
    pub data_dir: PathBuf,
    /// Where its processes' logs go (in the run directory): `<log_dir>/<process>.log`.
    pub log_dir: PathBuf,
}

/// One process of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Its role, also the name of its log file (`node`, `server`, `sentinel`).
    pub name: String,
    /// The program.
    pub program: String,
    /// Its arguments: an argument vector, never a shell string.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub envs: Vec<(String, String)>,
    /// Files written before the process first starts, when they do not exist yet (a config
    /// file the process rewrites as it runs, kept across its restarts).
    pub files: Vec<(PathBuf, String)>,
    /// The signal that stops it at the end of a test (`SIGTERM`, …), given a few seconds before
    /// SIGKILL; `None`: SIGKILL at once.
    pub stop_signal: Option<String>,
}

/// A program the target needs, and the Debian package that provides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// A program name (looked up on PATH) or a path given by the user.
    pub program: String,
    /// The Debian package to install when it is missing by name; `None` when there is none
    /// (built with faultline, or the user's own binary).
    pub package: Option<String>,
}

/// How clients behave.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientOptions {
    /// Every request gives up after this long (then it is indeterminate, or failed for a read).
    pub timeout: Duration,
}

/// Why a node is not ready yet (what its readiness check saw).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotReady(pub String);

impl NotReady {
    /// A reason from anything that displays.
    pub fn because(reason: impl std::fmt::Display) -> NotReady {
        NotReady(reason.to_string())
    }
}

/// Why a target cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The target's client lacks an operation the workload performs.
    #[error("the {target} target does not support this workload: its client has no `{operation}` (it has: {supported})")]
    Unsupported {
        /// The target.
        target: String,
        /// The missing operation.
        operation: String,
        /// What the client has.
        supported: String,
    },
    /// A client could not be made.
    #[error("cannot make a client of {node}: {message}")]
    Client {
        /// The node.
        node: String,
        /// Why.
        message: String,
    },
    /// The one-time cluster setup failed.
    #[error("cluster setup failed: {0}")]
    Setup(String),
}

/// A target. A new one is a folder in `targets/src/` with an implementation of this trait and
/// its client, and a variant in [`crate::TargetKind`].
pub trait Db: Send + Sync {
    /// The target's name (`bundled`, `etcd`).
    fn name(&self) -> &str;

    /// The programs it needs, checked (and installed from their packages when missing) before
    /// anything is created.
    fn requirements(&self) -> Vec<Requirement>;

    /// The operations its client supports.
    fn operations(&self) -> Vec<&'static str>;

    /// The processes that make `node` a member of `cluster`, started in this order (and
    /// restarted the same way, on the same data dir, after a kill). `run_id` is unique per run.
    fn processes(&self, node: &Node, cluster: &[Node], run_id: &str) -> Vec<ProcessSpec>;

    /// `Ok` once `node`, a member of `cluster`, serves clients; `Err` says what is still
    /// missing.
    fn ready<'a>(&'a self, node: &'a Node, cluster: &'a [Node]) -> BoxFuture<'a, Result<(), NotReady>>;

    /// Once, after every node is ready (e.g. joining replicas to a primary).
    fn setup<'a>(&'a self, _cluster: &'a [Node]) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async { Ok(()) })
    }

    /// The nodes that lead right now (indices into `cluster`), for faults aimed at primaries.
    /// Targets without a leader return none.
    fn primaries<'a>(&'a self, _cluster: &'a [Node]) -> BoxFuture<'a, Vec<usize>> {
        Box::pin(async { Vec::new() })
    }

    /// A client of `node` for `workload`.
    fn client(&self, workload: &dyn Workload, node: &Node, options: &ClientOptions) -> Result<Box<dyn Client>, DbError>;

    /// The target's version, for test.json.
    fn version(&self) -> Option<String>;

    /// How long a node may take to become ready, when the target knows better than
    /// `--start-timeout` (it replaces it).
    fn start_timeout(&self) -> Option<Duration> {
        None
    }

    /// The text that defines the target, when it was read from a file: kept in the run
    /// directory, so that the run can be replayed as it was.
    fn definition(&self) -> Option<&str> {
        None
    }

    /// Log files a node writes itself (beyond its processes' output, which the harness keeps
    /// already): copied into the run directory before the cluster is torn down.
    fn log_files(&self, _node: &Node) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Whether the client supports every operation of `workload` (checked before the run).
    fn supports(&self, workload: &dyn Workload) -> Result<(), DbError> {
        match workload.operations().iter().find(|op| !self.operations().contains(op)) {
            None => Ok(()),
            Some(op) => Err(DbError::Unsupported {
                target: self.name().to_string(),
                operation: op.to_string(),
                supported: self.operations().join(", "),
            }),
        }
    }
}

/// The first line of `program --version` that starts with `prefix` (any line if empty).
pub fn version_line(program: &str, prefix: &str) -> Option<String> {
    let out = std::process::Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find(|l| l.starts_with(prefix)).map(|l| l.trim().to_string())
}
