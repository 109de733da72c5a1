//! Packet loss: a random fraction of the packets arriving at some nodes is dropped (iptables
//! `statistic`; this kernel has no netem).

use checkers::rng::Rng;
use serde_json::{json, Value};

use super::{names, pick, Fault, Targets};
use crate::cluster::Cluster;

/// Drops `probability` of incoming packets at the chosen nodes.
pub struct Loss {
    /// Fraction of packets dropped, 0–1.
    pub probability: f64,
    /// Which nodes, drawn per start.
    pub targets: Vec<Targets>,
}

impl Fault for Loss {
    fn name(&self) -> &'static str {
        "loss"
    }

    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        let nodes = pick(&self.targets, rng).choose(cluster.nodes.len(), primaries, rng);
        for &i in &nodes {
            nemesis::iptables::loss(&cluster.nodes[i].namespace, self.probability)?;
        }
        Ok(json!({ "nodes": names(cluster, &nodes), "probability": self.probability }))
    }

    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value> {
        for node in &cluster.nodes {
            nemesis::iptables::heal(&node.namespace)?;
        }
        Ok(json!("network healed"))
    }
}
