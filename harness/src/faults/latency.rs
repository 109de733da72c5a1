//! Latency: packets arriving at the chosen nodes are held for a delay (plus jitter) by an
//! NFQUEUE consumer in each node's namespace (`nemesis::latency`); this kernel has no netem.

use std::time::Duration;

use checkers::rng::Rng;
use nemesis::latency::Delay;
use serde_json::{json, Value};

use super::{names, pick, Fault, Targets};
use crate::cluster::Cluster;

/// Delays incoming packets at some nodes.
pub struct Latency {
    /// Delay added to every incoming packet.
    pub delay: Duration,
    /// Up to this much more, at random (packets are never reordered).
    pub jitter: Duration,
    /// Which nodes, drawn per start.
    pub targets: Vec<Targets>,
    active: Vec<(usize, Delay)>,
}

impl Latency {
    /// A latency fault.
    pub fn new(delay: Duration, jitter: Duration, targets: Vec<Targets>) -> Latency {
        Latency { delay, jitter, targets, active: Vec::new() }
    }
}

impl Fault for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        let nodes = pick(&self.targets, rng).choose(cluster.nodes.len(), primaries, rng);
        for &i in &nodes {
            let ns = &cluster.nodes[i].namespace;
            // Bind the consumer first, then feed it: no packet waits on an empty queue.
            let delay = Delay::start(ns, 0, self.delay, self.jitter, rng.below(u64::MAX))?;
            self.active.push((i, delay));
            nemesis::iptables::queue(ns, 0)?;
        }
        Ok(json!({ "nodes": names(cluster, &nodes), "delay_ms": self.delay.as_millis() as u64, "jitter_ms": self.jitter.as_millis() as u64 }))
    }

    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value> {
        let mut delayed = serde_json::Map::new();
        for (i, delay) in self.active.drain(..) {
            nemesis::iptables::heal(&cluster.nodes[i].namespace)?;
            delayed.insert(cluster.nodes[i].name.clone(), json!(delay.stop()?));
        }
        Ok(json!({ "delayed_packets": delayed }))
    }
}
