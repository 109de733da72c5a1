//! Pauses: SIGSTOP the chosen nodes (they keep their connections but answer nothing); SIGCONT
//! at stop.

use checkers::rng::Rng;
use serde_json::{json, Value};

use super::{names, pick, Fault, Targets};
use crate::cluster::Cluster;

/// Pauses nodes, then resumes them.
pub struct Pause {
    /// Which nodes, drawn per start.
    pub targets: Vec<Targets>,
    paused: Vec<usize>,
}

impl Pause {
    /// A pause fault drawing its victims from `targets`.
    pub fn new(targets: Vec<Targets>) -> Pause {
        Pause { targets, paused: Vec::new() }
    }
}

impl Fault for Pause {
    fn name(&self) -> &'static str {
        "pause"
    }

    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        self.paused = pick(&self.targets, rng).choose(cluster.nodes.len(), primaries, rng);
        for &i in &self.paused {
            cluster.pause(i)?;
        }
        Ok(json!({ "nodes": names(cluster, &self.paused) }))
    }

    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value> {
        let paused = std::mem::take(&mut self.paused);
        for &i in &paused {
            cluster.resume(i)?;
        }
        Ok(json!({ "resumed": names(cluster, &paused) }))
    }
}
