//! Crashes: SIGKILL the chosen nodes; restart them from the same data dir at stop.

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{choose_nodes, each_node, names, restart_stopped, ClusterControl, Fault, FaultContext, FaultError, NodeSelection};

/// Kills nodes, then restarts them.
pub struct Kill {
    targets: Vec<NodeSelection>,
    /// Killed and not yet restarted.
    killed: Vec<usize>,
}

impl Kill {
    /// A kill fault drawing its victims from `targets`.
    pub fn new(targets: Vec<NodeSelection>) -> Kill {
        Kill { targets, killed: Vec::new() }
    }
}

impl Fault for Kill {
    fn name(&self) -> &'static str {
        "kill"
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let nodes = choose_nodes(&self.targets, cluster, context, rng);
        self.killed.extend(&nodes);
        let killed = each_node(&nodes, |i| cluster.kill(i));
        let mut started = FaultStarted::new(names(cluster, &nodes), ());
        started.error = killed.err().map(|e| e.to_string());
        Ok(started)
    }

    fn stop(&mut self, cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        let killed = std::mem::take(&mut self.killed);
        let mut failed = Vec::new();
        let result = each_node(&killed, |i| cluster.restart(i).inspect_err(|_| failed.push(i)));
        // What could not be restarted is still down: the final recovery tries again.
        self.killed = failed;
        result?;
        Ok(json!({ "restarted": names(cluster, &killed) }))
    }

    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        let killed = std::mem::take(&mut self.killed);
        restart_stopped(&killed, cluster)
    }
}
