//! Faults (Jepsen's nemeses), one file each behind [`Fault`]. A fault prepares what it needs
//! before the nodes start, applies itself and says exactly what it did (recorded in the history
//! as a `start-<fault>` op), undoes itself (`stop-<fault>`), and at the very end heals anything
//! it may have left, whatever happened before (`heal_all`). Faults act on the cluster only
//! through [`ClusterControl`], which the harness implements; they never see a target.
//!
//! Adding a fault: a new file here implementing [`Fault`], and a variant (its doc comment is its
//! `--help` text) and a match arm in [`FaultKind`] below. Its options, if any, go in
//! [`FaultOptions`] and the test config.

pub mod clock;
pub mod kill;
pub mod latency;
pub mod loss;
pub mod partition;
pub mod pause;
pub mod restart;

use std::path::PathBuf;
use std::time::Duration;

use history::faults::FaultStarted;
use history::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::grudge::Shape;
use crate::NodeNet;

/// What a fault can do to the cluster. The harness implements it over its node processes and
/// namespaces; nodes are indices into [`ClusterControl::nodes`].
pub trait ClusterControl: Send {
    /// The nodes: name, namespace, address.
    fn nodes(&self) -> &[NodeNet];
    /// SIGKILL every process of the node (its data stays).
    fn kill(&mut self, node: usize) -> Result<(), FaultError>;
    /// Starts the node's processes again as they were first started, on the same data. An
    /// error when it cannot (its namespace is gone, the program vanished, it exits at once).
    fn restart(&mut self, node: usize) -> Result<(), FaultError>;
    /// SIGSTOP every process of the node.
    fn pause(&mut self, node: usize) -> Result<(), FaultError>;
    /// SIGCONT every process of the node.
    fn resume(&mut self, node: usize) -> Result<(), FaultError>;
    /// Whether the node's processes are alive (paused counts as alive).
    fn is_running(&mut self, node: usize) -> bool;
    /// Environment for the node's processes from their next start on (set by `prepare`,
    /// before the first start).
    fn add_env(&mut self, node: usize, vars: Vec<(String, String)>);
    /// A directory private to this run, removed at its end (for clock files and the like).
    fn scratch_dir(&self) -> PathBuf;
}

/// What a fault knows when it starts.
#[derive(Clone, Debug, Default)]
pub struct FaultContext {
    /// The nodes that lead right now (indices), as the target says.
    pub primaries: Vec<usize>,
}

/// One kind of fault.
pub trait Fault: Send {
    /// The name in the history (`start-<name>`, `stop-<name>`) and on the command line.
    fn name(&self) -> &'static str;

    /// Before the nodes start: whatever the fault needs in place (an iptables chain, clock
    /// files and the environment that reads them).
    fn prepare(&mut self, _cluster: &mut dyn ClusterControl) -> Result<(), FaultError> {
        Ok(())
    }

    /// Applies the fault; says which nodes it hit and what it did. On an error the fault may
    /// be half applied: `stop` and `heal_all` still undo it.
    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError>;

    /// Undoes what the last `start` did; says what was undone.
    fn stop(&mut self, cluster: &mut dyn ClusterControl) -> Result<Value, FaultError>;

    /// The final recovery: undoes anything this fault may have done to any node, whether or
    /// not `stop` ran. Says what it had to do (empty when nothing was left).
    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError>;
}

/// A fault that could not be applied or undone.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// A system command failed (ip, iptables).
    #[error(transparent)]
    Command(#[from] crate::CommandError),
    /// A signal could not be sent, a file not written, a clock not set.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A node could not be restarted or controlled.
    #[error("node {node}: {message}")]
    Node {
        /// The node's name.
        node: String,
        /// What went wrong.
        message: String,
    },
    /// The fault cannot be applied as configured here (no primary known, …).
    #[error("{0}")]
    Invalid(String),
}

impl FaultError {
    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: impl Into<std::io::Error>) -> FaultError {
        FaultError::Io { what: what.into(), source: source.into() }
    }
}

/// The faults, by the name `--nemesis` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Network partitions with iptables, of the shapes in --partition.
    Partition,
    /// SIGKILL of the nodes in --kill-targets, restarted from their data when healed.
    Kill,
    /// SIGSTOP of the nodes in --pause-targets, SIGCONT when healed.
    Pause,
    /// Clock skew (libfaketime per node, or the system clock with --clock-strategy system).
    Clock,
    /// Random loss of --loss of the packets arriving at one node or a minority.
    Loss,
    /// --latency-ms (+ --jitter-ms) of delay on packets arriving at one node or a minority.
    Latency,
    /// A crash and an immediate restart of the nodes in --kill-targets (no downtime window).
    Restart,
}

/// Which nodes a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum NodeSelection {
    /// A random node.
    One,
    /// A random minority.
    Minority,
    /// A random majority.
    Majority,
    /// The current primaries (leaders); one random node when none is known.
    Primaries,
    /// Every node.
    All,
}

/// How clock faults skew clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClockStrategy {
    /// Per node, with libfaketime (libc programs; not Go binaries).
    Faketime,
    /// The whole machine's clock, with clock_settime, restored at each heal: only with one
    /// node (or real hosts), and only when asked for.
    System,
}

/// How a clock fault moves clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClockMode {
    /// One jump at the start, and back at the heal.
    Bump,
    /// Back and forth between the offset and none every 50 ms.
    Strobe,
    /// Either, at random per fault.
    Mixed,
}

/// Everything the faults may be configured with (validated by the harness).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultOptions {
    /// Partition shapes to draw from (a grudge is one explicit shape).
    pub partition: Vec<Shape>,
    /// Who a kill (or restart) hits.
    pub kill_targets: Vec<NodeSelection>,
    /// Who a pause hits.
    pub pause_targets: Vec<NodeSelection>,
    /// Fraction of packets a loss fault drops.
    pub loss: f64,
    /// Delay a latency fault adds.
    pub latency: Duration,
    /// Up to this much more, at random.
    pub jitter: Duration,
    /// How clocks are skewed.
    pub clock_strategy: ClockStrategy,
    /// Largest offset, in milliseconds.
    pub clock_skew_ms: i64,
    /// How clocks move.
    pub clock_mode: ClockMode,
}

impl FaultKind {
    /// The fault, configured. Makes nothing yet.
    pub fn build(self, o: &FaultOptions) -> Box<dyn Fault> {
        match self {
            FaultKind::Partition => Box::new(partition::Partition::new(o.partition.clone())),
            FaultKind::Kill => Box::new(kill::Kill::new(o.kill_targets.clone())),
            FaultKind::Pause => Box::new(pause::Pause::new(o.pause_targets.clone())),
            FaultKind::Clock => match o.clock_strategy {
                ClockStrategy::Faketime => Box::new(clock::Clock::new(o.clock_skew_ms, o.clock_mode)),
                ClockStrategy::System => Box::new(clock::SystemBump::new(o.clock_skew_ms)),
            },
            FaultKind::Loss => Box::new(loss::Loss::new(o.loss, vec![NodeSelection::One, NodeSelection::Minority])),
            FaultKind::Latency => Box::new(latency::Latency::new(o.latency, o.jitter, vec![NodeSelection::One, NodeSelection::Minority])),
            FaultKind::Restart => Box::new(restart::Restart::new(o.kill_targets.clone())),
        }
    }

    /// The name `--nemesis` takes.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Clock => "clock",
            FaultKind::Loss => "loss",
            FaultKind::Latency => "latency",
            FaultKind::Restart => "restart",
        }
    }
}

impl NodeSelection {
    /// The chosen node indices among `n` (never empty for n ≥ 1).
    pub fn choose(self, n: usize, primaries: &[usize], rng: &mut Rng) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in (1..all.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            all.swap(i, j);
        }
        let count = match self {
            NodeSelection::One => 1,
            NodeSelection::Minority => ((n.saturating_sub(1)) / 2).max(1),
            NodeSelection::Majority => n / 2 + 1,
            NodeSelection::All => n,
            NodeSelection::Primaries if !primaries.is_empty() => return primaries.to_vec(),
            NodeSelection::Primaries => 1,
        };
        let mut chosen: Vec<usize> = all.into_iter().take(count.min(n)).collect();
        chosen.sort_unstable();
        chosen
    }
}

/// Draws one selection from `choices`, then the nodes.
pub fn choose_nodes(choices: &[NodeSelection], cluster: &dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Vec<usize> {
    let selection = *rng.pick(choices).unwrap_or(&NodeSelection::One);
    selection.choose(cluster.nodes().len(), &context.primaries, rng)
}

/// Node names for a list of indices.
pub fn names(cluster: &dyn ClusterControl, nodes: &[usize]) -> Vec<String> {
    nodes.iter().filter_map(|&i| cluster.nodes().get(i)).map(|n| n.name.clone()).collect()
}

/// Restarts those of `nodes` that are not running: the final heal of the faults that kill.
/// Says which it restarted.
pub fn restart_stopped(nodes: &[usize], cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
    let mut done = Vec::new();
    each_node(nodes, |i| {
        if !cluster.is_running(i) {
            cluster.restart(i)?;
            done.push(format!("restarted {}", cluster.nodes()[i].name));
        }
        Ok(())
    })?;
    Ok(done)
}

/// Creates faultline's iptables chain in every node's namespace (the network faults share it).
pub fn install_chains(cluster: &dyn ClusterControl) -> Result<(), FaultError> {
    for node in cluster.nodes() {
        crate::iptables::install(&node.namespace)?;
    }
    Ok(())
}

/// Flushes faultline's chain in every node's namespace: the network faults' undo.
pub fn flush_chains(cluster: &dyn ClusterControl) -> Result<(), FaultError> {
    let all: Vec<usize> = (0..cluster.nodes().len()).collect();
    each_node(&all, |i| Ok(crate::iptables::heal(&cluster.nodes()[i].namespace)?))
}

/// Flushes faultline's chain wherever it holds rules (shared by the network faults).
pub fn heal_rules(cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
    let mut healed = Vec::new();
    let all: Vec<usize> = (0..cluster.nodes().len()).collect();
    each_node(&all, |i| {
        let node = &cluster.nodes()[i];
        if !crate::iptables::rules(&node.namespace)?.is_empty() {
            crate::iptables::heal(&node.namespace)?;
            healed.push(format!("healed {}", node.name));
        }
        Ok(())
    })?;
    Ok(healed)
}

/// Runs `action` on every node in `nodes`, going on after a failure; the first error is
/// returned once all were tried (a heal must not stop half-way).
pub fn each_node(nodes: &[usize], mut action: impl FnMut(usize) -> Result<(), FaultError>) -> Result<(), FaultError> {
    let mut first = None;
    for &i in nodes {
        if let Err(e) = action(i) {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn selection_sizes() {
        let mut rng = Rng::new(1);
        for n in [3, 5, 7] {
            assert_eq!(NodeSelection::One.choose(n, &[], &mut rng).len(), 1);
            assert_eq!(NodeSelection::Minority.choose(n, &[], &mut rng).len(), (n - 1) / 2);
            assert_eq!(NodeSelection::Majority.choose(n, &[], &mut rng).len(), n / 2 + 1);
            assert_eq!(NodeSelection::All.choose(n, &[], &mut rng), (0..n).collect::<Vec<_>>());
            assert_eq!(NodeSelection::Primaries.choose(n, &[2], &mut rng), vec![2]);
        }
        assert_eq!(NodeSelection::Minority.choose(1, &[], &mut rng), vec![0], "one node: itself");
    }

    #[test]
    fn names_agree_between_clap_serde_and_the_registry() {
        for kind in FaultKind::value_variants() {
            let clap_name = kind.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(clap_name.as_deref(), Some(kind.name()));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }
}
