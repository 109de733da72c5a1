//! Partitions as data (Jepsen's grudges): for each node, the nodes whose packets it drops.
//! Building a grudge is pure and seeded, so who drops whom can be tested on its own; applying it
//! is [`crate::iptables`]'s job.

use std::collections::{BTreeMap, BTreeSet};

use history::Rng;

/// Node → the nodes it does not hear from.
pub type Grudge = BTreeMap<String, BTreeSet<String>>;

/// The partition shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Isolate one random node from all others.
    One,
    /// Split into two halves (the smaller first) that cannot talk.
    Halves,
    /// Every node sees a majority, and no two nodes see the same one (Jepsen's).
    MajoritiesRing,
    /// Two halves joined by one node that sees both.
    Bridge,
    /// Isolate the current primaries (leaders) from the rest.
    Primaries,
    /// The current primary and one other node on one side, the rest on the other: the primary
    /// keeps a replica and goes on accepting writes while the majority elects another (the
    /// partition that makes Redis Sentinel lose acknowledged writes).
    PrimaryMinority,
    /// One random node drops a random other node's packets; the other still hears it.
    OneWay,
    /// Given on the command line: `n1,n2|n3,n4,n5` (groups that cannot talk to each other) or
    /// `n1>n2;n3>n2` (packets from n1 to n2 are dropped).
    Explicit(String),
}

impl Shape {
    /// Parses a shape name, or an explicit grudge.
    pub fn parse(s: &str) -> Result<Shape, String> {
        Ok(match s {
            "one" => Shape::One,
            "halves" => Shape::Halves,
            "majorities-ring" => Shape::MajoritiesRing,
            "bridge" => Shape::Bridge,
            "primaries" => Shape::Primaries,
            "primary-minority" => Shape::PrimaryMinority,
            "one-way" => Shape::OneWay,
            other if other.contains('|') || other.contains('>') => Shape::Explicit(other.to_string()),
            other => return Err(format!("unknown partition `{other}`: one, halves, majorities-ring, bridge, primaries, primary-minority, one-way, or a grudge such as `n1,n2|n3,n4,n5` or `n1>n2`")),
        })
    }

    /// Parses `--partition`: a comma-separated list of shape names, or one explicit grudge.
    pub fn parse_list(text: &str) -> Result<Vec<Shape>, String> {
        if text.contains('|') || text.contains('>') {
            return Ok(vec![Shape::Explicit(text.to_string())]);
        }
        let shapes = text.split(',').map(|s| Shape::parse(s.trim())).collect::<Result<Vec<_>, _>>()?;
        if shapes.is_empty() {
            return Err("no partition shape given".into());
        }
        Ok(shapes)
    }

    /// The shape's name (an explicit grudge is its own text).
    pub fn name(&self) -> String {
        match self {
            Shape::One => "one".into(),
            Shape::Halves => "halves".into(),
            Shape::MajoritiesRing => "majorities-ring".into(),
            Shape::Bridge => "bridge".into(),
            Shape::Primaries => "primaries".into(),
            Shape::PrimaryMinority => "primary-minority".into(),
            Shape::OneWay => "one-way".into(),
            Shape::Explicit(text) => text.clone(),
        }
    }

    /// Checks the shape against the cluster before anything starts: an explicit grudge names
    /// only existing nodes, has no empty group, no node in two groups, no node dropping itself.
    pub fn validate(&self, nodes: &[String]) -> Result<(), String> {
        // Named shapes too big for a small cluster cut nothing (a bridge of 2 nodes); only a
        // grudge written out can be wrong.
        match self {
            Shape::Explicit(text) => explicit(text, nodes).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The grudge for `nodes`, drawing from `rng`; `primaries` are used by [`Shape::Primaries`].
    pub fn grudge(&self, nodes: &[String], primaries: &[String], rng: &mut Rng) -> Result<Grudge, String> {
        let mut shuffled = nodes.to_vec();
        shuffle(&mut shuffled, rng);
        Ok(match self {
            Shape::One => complete(&[shuffled[..1].to_vec(), shuffled[1..].to_vec()]),
            Shape::Halves => {
                let half = shuffled.len() / 2;
                complete(&[shuffled[..half].to_vec(), shuffled[half..].to_vec()])
            }
            Shape::MajoritiesRing => majorities_ring(&shuffled),
            Shape::Bridge => bridge(&shuffled),
            Shape::Primaries => {
                let rest: Vec<String> = nodes.iter().filter(|n| !primaries.contains(n)).cloned().collect();
                if primaries.is_empty() {
                    return Err("no primary is known right now".into());
                }
                complete(&[primaries.to_vec(), rest])
            }
            Shape::PrimaryMinority => {
                let Some(primary) = primaries.first() else { return Err("no primary is known right now".into()) };
                let other = shuffled.iter().find(|n| *n != primary).cloned();
                let minority: Vec<String> = std::iter::once(primary.clone()).chain(other).collect();
                let rest: Vec<String> = nodes.iter().filter(|n| !minority.contains(n)).cloned().collect();
                complete(&[minority, rest])
            }
            Shape::OneWay => {
                let mut g = Grudge::new();
                if shuffled.len() >= 2 {
                    g.entry(shuffled[0].clone()).or_default().insert(shuffled[1].clone());
                }
                g
            }
            Shape::Explicit(text) => explicit(text, nodes)?,
        })
    }
}

fn shuffle(items: &mut [String], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// No node hears any node of another group (Jepsen's `complete-grudge`).
pub fn complete(groups: &[Vec<String>]) -> Grudge {
    let mut g = Grudge::new();
    for (i, group) in groups.iter().enumerate() {
        for node in group {
            let others: BTreeSet<String> =
                groups.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, g)| g.iter().cloned()).collect();
            if !others.is_empty() {
                g.insert(node.clone(), others);
            }
        }
    }
    g
}

/// Nodes on a ring; each hears the nodes near it on the ring, a majority in all (itself
/// included), and so no two nodes hear the same set. With 3 or 4 nodes the windows cannot be
/// symmetric, so each node hears itself and the next ones around the ring.
fn majorities_ring(ring: &[String]) -> Grudge {
    let n = ring.len();
    let majority = n / 2 + 1;
    let mut g = Grudge::new();
    let symmetric = 2 * (majority / 2) + 1 < n;
    for (i, node) in ring.iter().enumerate() {
        let hears: BTreeSet<usize> = if symmetric {
            let k = majority / 2;
            (0..=2 * k).map(|d| (i + n + d - k) % n).collect()
        } else {
            (0..majority).map(|d| (i + d) % n).collect()
        };
        let drops: BTreeSet<String> = (0..n).filter(|j| !hears.contains(j)).map(|j| ring[j].clone()).collect();
        if !drops.is_empty() {
            g.insert(node.clone(), drops);
        }
    }
    g
}

/// Two halves that cannot hear each other, and one node that hears (and is heard by) both.
fn bridge(nodes: &[String]) -> Grudge {
    let n = nodes.len();
    if n < 3 {
        return Grudge::new();
    }
    let middle = n / 2;
    let left = nodes[..middle].to_vec();
    let right = nodes[middle + 1..].to_vec();
    complete(&[left, right])
}

fn explicit(text: &str, nodes: &[String]) -> Result<Grudge, String> {
    let known = |n: &str| -> Result<String, String> {
        let n = n.trim();
        if nodes.iter().any(|m| m == n) {
            Ok(n.to_string())
        } else {
            Err(format!("grudge `{text}`: unknown node `{n}` (nodes: {})", nodes.join(", ")))
        }
    };
    if text.contains('|') {
        let groups = text
            .split('|')
            .map(|g| g.split(',').filter(|n| !n.trim().is_empty()).map(known).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()?;
        if groups.len() < 2 || groups.iter().any(|g| g.is_empty()) {
            return Err(format!("grudge `{text}`: every group separated by `|` needs at least one node"));
        }
        let mut seen = BTreeSet::new();
        for node in groups.iter().flatten() {
            if !seen.insert(node) {
                return Err(format!("grudge `{text}`: node `{node}` is in two groups"));
            }
        }
        return Ok(complete(&groups));
    }
    let mut g = Grudge::new();
    for rule in text.split(';').filter(|r| !r.trim().is_empty()) {
        let (from, to) = rule.split_once('>').ok_or_else(|| format!("grudge `{text}`: `{rule}` is not FROM>TO"))?;
        let (from, to) = (known(from)?, known(to)?);
        if from == to {
            return Err(format!("grudge `{text}`: `{rule}`: a node cannot drop its own packets"));
        }
        g.entry(to).or_default().insert(from);
    }
    if g.is_empty() {
        return Err(format!("grudge `{text}`: no rule"));
    }
    Ok(g)
}

/// Whether `a` hears `b` under `grudge`.
pub fn hears(grudge: &Grudge, a: &str, b: &str) -> bool {
    a == b || !grudge.get(a).is_some_and(|drops| drops.contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    fn heard_by(g: &Grudge, node: &str, all: &[String]) -> BTreeSet<String> {
        all.iter().filter(|m| hears(g, node, m)).cloned().collect()
    }

    #[test]
    fn one_isolates_exactly_one_node_both_ways() {
        for n in [3, 5, 7] {
            let all = nodes(n);
            for seed in 0..20 {
                let g = Shape::One.grudge(&all, &[], &mut Rng::new(seed)).unwrap();
                let isolated: Vec<&String> = all.iter().filter(|a| heard_by(&g, a, &all).len() == 1).collect();
                assert_eq!(isolated.len(), 1, "{g:?}");
                let x = isolated[0];
                for other in all.iter().filter(|o| *o != x) {
                    assert!(!hears(&g, x, other) && !hears(&g, other, x));
                    assert_eq!(heard_by(&g, other, &all).len(), n - 1);
                }
            }
        }
    }

    #[test]
    fn halves_split_into_a_minority_and_a_majority() {
        for n in [3, 5, 7] {
            let all = nodes(n);
            let g = Shape::Halves.grudge(&all, &[], &mut Rng::new(1)).unwrap();
            let mut sizes: Vec<usize> = all.iter().map(|a| heard_by(&g, a, &all).len()).collect();
            sizes.sort();
            // n/2 nodes hear a minority (their half), the rest hear the majority half.
            assert_eq!(sizes.iter().filter(|&&s| s == n / 2).count(), n / 2);
            assert_eq!(sizes.iter().filter(|&&s| s == n - n / 2).count(), n - n / 2);
            for a in &all {
                for b in &all {
                    assert_eq!(hears(&g, a, b), hears(&g, b, a), "symmetric");
                }
            }
        }
    }

    #[test]
    fn majorities_ring_gives_everyone_a_different_majority() {
        for n in [3, 4, 5, 7] {
            let all = nodes(n);
            for seed in 0..10 {
                let g = Shape::MajoritiesRing.grudge(&all, &[], &mut Rng::new(seed)).unwrap();
                let views: Vec<BTreeSet<String>> = all.iter().map(|a| heard_by(&g, a, &all)).collect();
                for v in &views {
                    assert!(v.len() > n / 2, "n={n}: a majority: {v:?}");
                    assert!(v.len() < n, "n={n}: not everyone: {v:?}");
                }
                let distinct: BTreeSet<&BTreeSet<String>> = views.iter().collect();
                assert_eq!(distinct.len(), n, "n={n}: no two nodes see the same majority: {views:?}");
            }
        }
    }

    #[test]
    fn bridge_has_one_node_hearing_both_sides() {
        for n in [3, 5, 7] {
            let all = nodes(n);
            let g = Shape::Bridge.grudge(&all, &[], &mut Rng::new(4)).unwrap();
            let full: Vec<&String> = all.iter().filter(|a| heard_by(&g, a, &all).len() == n).collect();
            assert_eq!(full.len(), 1, "exactly one bridge node: {g:?}");
            let others: Vec<&String> = all.iter().filter(|a| heard_by(&g, a, &all).len() < n).collect();
            assert_eq!(others.len(), n - 1);
            // The two sides do not hear each other, yet each hears the bridge.
            for a in &others {
                assert!(hears(&g, a, full[0]) && hears(&g, full[0], a));
            }
        }
    }

    #[test]
    fn primaries_are_cut_off_from_the_rest() {
        let all = nodes(5);
        let g = Shape::Primaries.grudge(&all, &["n3".to_string()], &mut Rng::new(1)).unwrap();
        assert_eq!(heard_by(&g, "n3", &all), BTreeSet::from(["n3".to_string()]));
        assert_eq!(heard_by(&g, "n1", &all).len(), 4);
        assert!(Shape::Primaries.grudge(&all, &[], &mut Rng::new(1)).is_err());
    }

    #[test]
    fn primary_minority_keeps_the_primary_with_one_other_node() {
        let all = nodes(5);
        for seed in 0..10 {
            let g = Shape::PrimaryMinority.grudge(&all, &["n2".to_string()], &mut Rng::new(seed)).unwrap();
            let side = heard_by(&g, "n2", &all);
            assert_eq!(side.len(), 2, "the primary and one other: {side:?}");
            let other = side.iter().find(|n| *n != "n2").unwrap();
            assert_eq!(heard_by(&g, other, &all), side);
            assert!(all.iter().filter(|n| !side.contains(*n)).all(|n| heard_by(&g, n, &all).len() == 3), "the rest hear each other");
        }
        assert!(Shape::PrimaryMinority.grudge(&all, &[], &mut Rng::new(1)).is_err());
    }

    #[test]
    fn one_way_drops_in_one_direction_only() {
        for n in [3, 5, 7] {
            let g = Shape::OneWay.grudge(&nodes(n), &[], &mut Rng::new(9)).unwrap();
            assert_eq!(g.len(), 1);
            let (a, drops) = g.iter().next().unwrap();
            let b = drops.iter().next().unwrap();
            assert!(!hears(&g, a, b) && hears(&g, b, a));
        }
    }

    #[test]
    fn explicit_grudges_parse_and_name_unknown_nodes() {
        let all = nodes(5);
        let g = Shape::parse("n1,n2|n3,n4,n5").unwrap().grudge(&all, &[], &mut Rng::new(1)).unwrap();
        assert!(!hears(&g, "n1", "n3") && hears(&g, "n1", "n2") && hears(&g, "n4", "n5"));
        let g = Shape::parse("n1>n2;n3>n2").unwrap().grudge(&all, &[], &mut Rng::new(1)).unwrap();
        assert_eq!(g, Grudge::from([("n2".to_string(), BTreeSet::from(["n1".to_string(), "n3".to_string()]))]));
        let e = Shape::parse("n1>n9").unwrap().grudge(&all, &[], &mut Rng::new(1)).unwrap_err();
        assert!(e.contains("unknown node `n9`"), "{e}");
        assert!(Shape::parse("triangle").is_err());
        for (bad, why) in [
            ("n1,n2|", "at least one node"),
            ("n1||n2", "at least one node"),
            ("n1,n2|n2,n3", "in two groups"),
            ("n1>n1", "its own packets"),
            ("n1>n6", "unknown node `n6`"),
        ] {
            let e = Shape::parse(bad).unwrap().validate(&all).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert_eq!(Shape::parse_list("one, halves").unwrap(), vec![Shape::One, Shape::Halves]);
        assert!(Shape::parse_list("one,,halves").is_err());
        assert_eq!(Shape::parse_list("n1|n2").unwrap(), vec![Shape::Explicit("n1|n2".into())]);
    }

    #[test]
    fn shapes_are_seeded() {
        let all = nodes(7);
        let a = Shape::Halves.grudge(&all, &[], &mut Rng::new(5)).unwrap();
        assert_eq!(a, Shape::Halves.grudge(&all, &[], &mut Rng::new(5)).unwrap());
    }
}
