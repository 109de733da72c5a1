//! Packet loss: a random fraction of the packets arriving at some nodes is dropped (iptables
//! `statistic`; this kernel has no netem).

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{
    choose_nodes, each_node, flush_chains, heal_rules, install_chains, names, ClusterControl, Fault, FaultContext, FaultError,
    NodeSelection,
};
use crate::iptables;

/// Drops `probability` of incoming packets at the chosen nodes.
pub struct Loss {
    probability: f64,
    targets: Vec<NodeSelection>,
}

impl Loss {
    /// A loss fault of `probability` (0–1) at nodes drawn from `targets`.
    pub fn new(probability: f64, targets: Vec<NodeSelection>) -> Loss {
        Loss { probability, targets }
    }
}

impl Fault for Loss {
    fn name(&self) -> &'static str {
        "loss"
    }

    fn prepare(&mut self, cluster: &mut dyn ClusterControl) -> Result<(), FaultError> {
        install_chains(cluster)
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let nodes = choose_nodes(&self.targets, cluster, context, rng);
        each_node(&nodes, |i| Ok(iptables::loss(&cluster.nodes()[i].namespace, self.probability)?))?;
        Ok(FaultStarted::new(names(cluster, &nodes), json!({ "probability": self.probability })))
    }

    fn stop(&mut self, cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        flush_chains(cluster)?;
        Ok(json!("network healed"))
    }

    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        heal_rules(cluster)
    }
}
