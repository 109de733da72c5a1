//! Network partitions: a grudge (who drops whom) applied with iptables in each node's namespace.

use std::collections::BTreeMap;

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{flush_chains, heal_rules, install_chains, ClusterControl, Fault, FaultContext, FaultError};
use crate::grudge::{Grudge, Shape};
use crate::iptables;

/// Partitions of the given shapes, one drawn per start.
pub struct Partition {
    shapes: Vec<Shape>,
}

impl Partition {
    /// A partition fault drawing from `shapes`.
    pub fn new(shapes: Vec<Shape>) -> Partition {
        Partition { shapes }
    }
}

impl Fault for Partition {
    fn name(&self) -> &'static str {
        "partition"
    }

    fn prepare(&mut self, cluster: &mut dyn ClusterControl) -> Result<(), FaultError> {
        install_chains(cluster)
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let shape = rng.pick(&self.shapes).cloned().unwrap_or(Shape::One);
        let names: Vec<String> = cluster.nodes().iter().map(|n| n.name.clone()).collect();
        let leaders = super::names(cluster, &context.primaries);
        let grudge = shape.grudge(&names, &leaders, rng).map_err(FaultError::Invalid)?;
        let namespaces: BTreeMap<String, String> = cluster.nodes().iter().map(|n| (n.name.clone(), n.namespace.clone())).collect();
        let ips = cluster.nodes().iter().map(|n| (n.name.clone(), n.ip)).collect();
        iptables::partition(&grudge, &namespaces, &ips)?;
        Ok(FaultStarted::new(cut_off(&grudge), json!({ "shape": shape.name(), "grudge": grudge })))
    }

    fn stop(&mut self, cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        flush_chains(cluster)?;
        Ok(json!("network healed"))
    }

    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        heal_rules(cluster)
    }
}

/// Nodes that drop some packets under the grudge.
fn cut_off(grudge: &Grudge) -> Vec<String> {
    grudge.iter().filter(|(_, drops)| !drops.is_empty()).map(|(node, _)| node.clone()).collect()
}
