//! Pauses: SIGSTOP the chosen nodes (they keep their connections but answer nothing); SIGCONT
//! at stop.

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{choose_nodes, each_node, names, ClusterControl, Fault, FaultContext, FaultError, NodeSelection};

/// Pauses nodes, then resumes them.
pub struct Pause {
    targets: Vec<NodeSelection>,
    /// Paused and not yet resumed.
    paused: Vec<usize>,
}

impl Pause {
    /// A pause fault drawing its victims from `targets`.
    pub fn new(targets: Vec<NodeSelection>) -> Pause {
        Pause { targets, paused: Vec::new() }
    }
}

impl Fault for Pause {
    fn name(&self) -> &'static str {
        "pause"
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let nodes = choose_nodes(&self.targets, cluster, context, rng);
        self.paused.extend(&nodes);
        let paused = each_node(&nodes, |i| cluster.pause(i));
        let mut started = FaultStarted::new(names(cluster, &nodes), ());
        started.error = paused.err().map(|e| e.to_string());
        Ok(started)
    }

    fn stop(&mut self, cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        let paused = std::mem::take(&mut self.paused);
        let mut failed = Vec::new();
        let result = each_node(&paused, |i| cluster.resume(i).inspect_err(|_| failed.push(i)));
        self.paused = failed;
        result?;
        Ok(json!({ "resumed": names(cluster, &paused) }))
    }

    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        let paused = std::mem::take(&mut self.paused);
        each_node(&paused, |i| cluster.resume(i))?;
        Ok(paused.iter().map(|&i| format!("resumed {}", cluster.nodes()[i].name)).collect())
    }
}
