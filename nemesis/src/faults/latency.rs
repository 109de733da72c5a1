//! Latency: packets arriving at the chosen nodes are held for a delay (plus jitter) by an
//! NFQUEUE consumer in each node's namespace ([`crate::latency`]); this kernel has no netem.

use std::collections::BTreeMap;
use std::time::Duration;

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{choose_nodes, heal_rules, install_chains, names, ClusterControl, Fault, FaultContext, FaultError, NodeSelection};
use crate::iptables;
use crate::latency::Delay;

/// Delays incoming packets at some nodes.
pub struct Latency {
    delay: Duration,
    jitter: Duration,
    targets: Vec<NodeSelection>,
    active: Vec<(usize, Delay)>,
}

impl Latency {
    /// A latency fault of `delay` plus up to `jitter` at nodes drawn from `targets`.
    pub fn new(delay: Duration, jitter: Duration, targets: Vec<NodeSelection>) -> Latency {
        Latency { delay, jitter, targets, active: Vec::new() }
    }

    /// Flushes the rules, then stops the consumers: what each held.
    fn undo(&mut self, cluster: &mut dyn ClusterControl) -> Result<BTreeMap<String, u64>, FaultError> {
        let mut delayed = BTreeMap::new();
        let mut first = None;
        for (i, delay) in self.active.drain(..) {
            let node = &cluster.nodes()[i];
            // Heal first: once the rule is gone no packet waits on a queue nobody reads.
            if let Err(e) = iptables::heal(&node.namespace) {
                first.get_or_insert(FaultError::from(e));
            }
            match delay.stop() {
                Ok(count) => {
                    delayed.insert(node.name.clone(), count);
                }
                Err(e) => {
                    first.get_or_insert(FaultError::io(format!("stopping the delay at {}", node.name), e));
                }
            }
        }
        first.map_or(Ok(delayed), Err)
    }
}

impl Fault for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn prepare(&mut self, cluster: &mut dyn ClusterControl) -> Result<(), FaultError> {
        install_chains(cluster)
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let nodes = choose_nodes(&self.targets, cluster, context, rng);
        for &i in &nodes {
            let ns = cluster.nodes()[i].namespace.clone();
            // Bind the consumer first, then feed it: no packet waits on an empty queue.
            let delay = Delay::start(&ns, 0, self.delay, self.jitter, rng.below(u64::MAX))
                .map_err(|e| FaultError::io(format!("starting the delay in {ns}"), e))?;
            self.active.push((i, delay));
            iptables::queue(&ns, 0)?;
        }
        let detail = json!({ "delay_ms": self.delay.as_millis() as u64, "jitter_ms": self.jitter.as_millis() as u64 });
        Ok(FaultStarted::new(names(cluster, &nodes), detail))
    }

    fn stop(&mut self, cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        Ok(json!({ "delayed_packets": self.undo(cluster)? }))
    }

    fn heal_all(&mut self, cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        let delayed = self.undo(cluster)?;
        let mut done: Vec<String> = delayed.keys().map(|n| format!("stopped the delay at {n}")).collect();
        done.extend(heal_rules(cluster)?);
        Ok(done)
    }
}
