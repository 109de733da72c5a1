//! Faults (Jepsen's nemeses). Each is one file behind [`Fault`]: `start` applies it and says
//! exactly what it did (recorded in the history as a `nemesis` op), `stop` is its named inverse.
//! The schedule (`crate::schedule`) runs one fault at a time.

pub mod clock;
pub mod kill;
pub mod latency;
pub mod loss;
pub mod partition;
pub mod pause;

use checkers::rng::Rng;
use serde_json::Value;

use crate::cluster::Cluster;

/// One kind of fault.
pub trait Fault: Send {
    /// `partition`, `kill`, …; the history's ops are `start-<name>` and `stop-<name>`.
    fn name(&self) -> &'static str;
    /// Applies the fault; returns what was done (targets, grudge, offsets).
    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value>;
    /// Undoes it; returns what was undone.
    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value>;
}

/// Which nodes a process fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// A random node.
    One,
    /// A random minority.
    Minority,
    /// A random majority.
    Majority,
    /// The current primaries (leaders).
    Primaries,
    /// Every node.
    All,
}

impl Targets {
    /// Parses `one`, `minority`, `majority`, `primaries`, `all`.
    pub fn parse(s: &str) -> Result<Targets, String> {
        Ok(match s {
            "one" => Targets::One,
            "minority" => Targets::Minority,
            "majority" => Targets::Majority,
            "primaries" => Targets::Primaries,
            "all" => Targets::All,
            other => return Err(format!("unknown targets `{other}`: one, minority, majority, primaries, all")),
        })
    }

    /// The chosen node indices (never empty for n ≥ 1; primaries fall back to one node when no
    /// leader is known).
    pub fn choose(self, n: usize, primaries: &[usize], rng: &mut Rng) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in (1..all.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            all.swap(i, j);
        }
        let count = match self {
            Targets::One => 1,
            Targets::Minority => ((n - 1) / 2).max(1),
            Targets::Majority => n / 2 + 1,
            Targets::All => n,
            Targets::Primaries if !primaries.is_empty() => return primaries.to_vec(),
            Targets::Primaries => 1,
        };
        let mut chosen: Vec<usize> = all.into_iter().take(count).collect();
        chosen.sort_unstable();
        chosen
    }
}

/// Node names for a list of indices.
pub fn names(cluster: &Cluster, nodes: &[usize]) -> Vec<String> {
    nodes.iter().map(|&i| cluster.nodes[i].name.clone()).collect()
}

/// One of several target choices, drawn per start.
pub fn pick(choices: &[Targets], rng: &mut Rng) -> Targets {
    *rng.pick(choices).unwrap_or(&Targets::One)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_sizes() {
        let mut rng = Rng::new(1);
        for n in [3, 5, 7] {
            assert_eq!(Targets::One.choose(n, &[], &mut rng).len(), 1);
            assert_eq!(Targets::Minority.choose(n, &[], &mut rng).len(), (n - 1) / 2);
            assert_eq!(Targets::Majority.choose(n, &[], &mut rng).len(), n / 2 + 1);
            assert_eq!(Targets::All.choose(n, &[], &mut rng), (0..n).collect::<Vec<_>>());
            assert_eq!(Targets::Primaries.choose(n, &[2], &mut rng), vec![2]);
        }
        assert!(Targets::parse("half").is_err());
    }
}
