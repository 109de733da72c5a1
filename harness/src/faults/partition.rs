//! Network partitions: a grudge (who drops whom) applied with iptables in each namespace.

use checkers::rng::Rng;
use nemesis::grudge::Shape;
use serde_json::{json, Value};

use super::Fault;
use crate::cluster::Cluster;

/// Partitions of the given shapes, one drawn per start.
pub struct Partition {
    /// Shapes to draw from.
    pub shapes: Vec<Shape>,
}

fn shape_name(shape: &Shape) -> String {
    match shape {
        Shape::One => "one".into(),
        Shape::Halves => "halves".into(),
        Shape::MajoritiesRing => "majorities-ring".into(),
        Shape::Bridge => "bridge".into(),
        Shape::Primaries => "primaries".into(),
        Shape::OneWay => "one-way".into(),
        Shape::Explicit(text) => text.clone(),
    }
}

impl Fault for Partition {
    fn name(&self) -> &'static str {
        "partition"
    }

    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        let shape = rng.pick(&self.shapes).cloned().unwrap_or(Shape::One);
        let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
        let leaders = super::names(cluster, primaries);
        let grudge = shape.grudge(&names, &leaders, rng).map_err(anyhow::Error::msg)?;
        nemesis::iptables::partition(&grudge, &cluster.namespaces(), &cluster.ips())?;
        Ok(json!({ "shape": shape_name(&shape), "grudge": grudge }))
    }

    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value> {
        for node in &cluster.nodes {
            nemesis::iptables::heal(&node.namespace)?;
        }
        Ok(json!("network healed"))
    }
}
