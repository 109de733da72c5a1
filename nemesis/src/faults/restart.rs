//! A crash and an immediate restart: SIGKILL the chosen nodes and start them again at once from
//! their data, so the fault window covers their recovery rather than an outage.

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{choose_nodes, each_node, names, restart_stopped, ClusterControl, Fault, FaultContext, FaultError, NodeSelection};

/// Kills nodes and restarts them in the same breath.
pub struct Restart {
    targets: Vec<NodeSelection>,
    /// Nodes whose restart failed: the final recovery tries again.
    down: Vec<usize>,
}

impl Restart {
    /// A restart fault drawing its victims from `targets`.
    pub fn new(targets: Vec<NodeSelection>) -> Restart {
        Restart { targets, down: Vec::new() }
    }
}

impl Fault for Restart {
    fn name(&self) -> &'static str {
        "restart"
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let nodes = choose_nodes(&self.targets, cluster, context, rng);
        let mut down = Vec::new();
        let result = each_node(&nodes, |i| {
            cluster.kill(i)?;
            cluster.restart(i).inspect_err(|_| down.push(i))
        });
        self.down.extend(down);
        let mut started = FaultStarted::new(names(cluster, &nodes), ());
        started.error = result.err().map(|e| e.to_string());
        Ok(started)
    }

    fn stop(&mut self, _cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        Ok(json!("nothing to undo: restarted at once"))
    }

    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        let down = std::mem::take(&mut self.down);
        restart_stopped(&down, cluster)
    }
}
