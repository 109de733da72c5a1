//! Network faults with iptables, inside each node's own namespace (the root namespace is never
//! touched). All rules go into faultline's own chain `FAULTLINE`, jumped to from `INPUT`, so
//! healing flushes exactly the rules faultline added. Deleting the namespace at teardown removes
//! the chain with it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::command::{run, CommandError};
use crate::grudge::Grudge;

/// faultline's chain in every node's namespace.
pub const CHAIN: &str = "FAULTLINE";

fn iptables(namespace: &str, args: &[&str]) -> Result<String, CommandError> {
    let mut full = vec!["netns", "exec", namespace, "iptables", "-w"];
    full.extend_from_slice(args);
    run("ip", &full)
}

/// Creates the chain and the jump to it, unless they exist (several faults share the chain).
pub fn install(namespace: &str) -> Result<(), CommandError> {
    if iptables(namespace, &["-S", CHAIN]).is_err() {
        iptables(namespace, &["-N", CHAIN])?;
    }
    if iptables(namespace, &["-C", "INPUT", "-j", CHAIN]).is_err() {
        iptables(namespace, &["-I", "INPUT", "-j", CHAIN])?;
    }
    Ok(())
}

/// Makes every node drop packets from the nodes its grudge names. `namespaces` and `ips` map
/// node names to their namespace and address.
pub fn partition(grudge: &Grudge, namespaces: &BTreeMap<String, String>, ips: &BTreeMap<String, Ipv4Addr>) -> Result<(), CommandError> {
    for (node, drops) in grudge {
        let Some(ns) = namespaces.get(node) else { continue };
        for peer in drops {
            if let Some(ip) = ips.get(peer) {
                iptables(ns, &["-A", CHAIN, "-s", &ip.to_string(), "-j", "DROP"])?;
            }
        }
    }
    Ok(())
}

/// Drops a random fraction `probability` (0–1) of the packets arriving at the node.
pub fn loss(namespace: &str, probability: f64) -> Result<(), CommandError> {
    let p = format!("{:.4}", probability.clamp(0.0, 1.0));
    iptables(namespace, &["-A", CHAIN, "-m", "statistic", "--mode", "random", "--probability", &p, "-j", "DROP"])?;
    Ok(())
}

/// Sends every packet arriving at the node to NFQUEUE `queue` (see [`crate::latency`]); with
/// `--queue-bypass`, packets pass if no consumer listens.
pub fn queue(namespace: &str, queue: u16) -> Result<(), CommandError> {
    iptables(namespace, &["-A", CHAIN, "-j", "NFQUEUE", "--queue-num", &queue.to_string(), "--queue-bypass"])?;
    Ok(())
}

/// Removes every rule faultline added in this namespace (and only those).
pub fn heal(namespace: &str) -> Result<(), CommandError> {
    iptables(namespace, &["-F", CHAIN])?;
    Ok(())
}

/// The rules in faultline's chain, as `iptables -S` prints them.
pub fn rules(namespace: &str) -> Result<Vec<String>, CommandError> {
    let out = iptables(namespace, &["-S", CHAIN])?;
    Ok(out.lines().filter(|l| l.starts_with("-A")).map(str::to_string).collect())
}
