//! Crashes: SIGKILL the chosen nodes; restart them from the same data dir at stop.

use checkers::rng::Rng;
use serde_json::{json, Value};

use super::{names, pick, Fault, Targets};
use crate::cluster::Cluster;

/// Kills nodes, then restarts them.
pub struct Kill {
    /// Which nodes, drawn per start.
    pub targets: Vec<Targets>,
    killed: Vec<usize>,
}

impl Kill {
    /// A kill fault drawing its victims from `targets`.
    pub fn new(targets: Vec<Targets>) -> Kill {
        Kill { targets, killed: Vec::new() }
    }
}

impl Fault for Kill {
    fn name(&self) -> &'static str {
        "kill"
    }

    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        self.killed = pick(&self.targets, rng).choose(cluster.nodes.len(), primaries, rng);
        for &i in &self.killed {
            cluster.kill(i);
        }
        Ok(json!({ "nodes": names(cluster, &self.killed) }))
    }

    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value> {
        let killed = std::mem::take(&mut self.killed);
        for &i in &killed {
            cluster.restart(i)?;
        }
        Ok(json!({ "restarted": names(cluster, &killed) }))
    }
}
