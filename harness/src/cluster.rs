//! A running cluster: the namespaces of [`nemesis::ClusterNet`] and a node process in each.
//! Dropping it (normal end, error, panic) kills every node by PID, reaps it, and deletes the
//! namespaces, veths and bridge; signals are turned into a normal stop by the runner, which then
//! drops it too.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use nemesis::{ClusterNet, NodeProcess, RunId};

use crate::db::{Db, Node};

/// Nodes, their processes and their network.
pub struct Cluster {
    /// The nodes, in order.
    pub nodes: Vec<Node>,
    processes: Vec<Option<NodeProcess>>,
    // Declared last: dropped after the processes are killed.
    net: ClusterNet,
}

impl Cluster {
    /// Creates the network and the nodes' directories; starts nothing yet.
    pub fn create(run: RunId, count: usize, run_dir: &Path) -> anyhow::Result<Cluster> {
        let net = ClusterNet::create(run.clone(), count).context("cannot create the cluster's network namespaces")?;
        let mut nodes = Vec::with_capacity(count);
        for n in &net.nodes {
            let data_dir = run.scratch_dir().join(&n.name);
            std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
            let log_dir = run_dir.join("nodes").join(&n.name);
            std::fs::create_dir_all(&log_dir).with_context(|| format!("cannot create {}", log_dir.display()))?;
            nodes.push(Node { name: n.name.clone(), namespace: n.namespace.clone(), ip: n.ip, data_dir, log: log_dir.join("node.log") });
        }
        let processes = nodes.iter().map(|_| None).collect();
        Ok(Cluster { nodes, processes, net })
    }

    /// The address the nodes see the harness at.
    pub fn host_ip(&self) -> std::net::Ipv4Addr {
        self.net.host_ip
    }

    /// Starts node `i`'s process.
    pub fn start<D: Db>(&mut self, db: &D, i: usize) -> anyhow::Result<()> {
        let node = &self.nodes[i];
        let cmd = db.start_command(node, &self.nodes);
        let process = NodeProcess::spawn(&node.namespace, &cmd.program, &cmd.args, &cmd.envs, &node.log)
            .with_context(|| format!("node {}: cannot start {}", node.name, cmd.program))?;
        self.processes[i] = Some(process);
        Ok(())
    }

    /// Starts every node and waits until all are ready, or fails naming the node that is not,
    /// with the end of its log.
    pub async fn start_all<D: Db>(&mut self, db: &D, deadline: Duration, cancelled: impl Fn() -> bool) -> anyhow::Result<Duration> {
        let started = Instant::now();
        for i in 0..self.nodes.len() {
            self.start(db, i)?;
        }
        let mut pending: Vec<usize> = (0..self.nodes.len()).collect();
        let mut last_reason = vec![String::new(); self.nodes.len()];
        while !pending.is_empty() {
            if cancelled() {
                bail!("stopped while the cluster was starting");
            }
            for &i in &pending {
                if let Some(status) = self.processes[i].as_mut().and_then(|p| p.exited()) {
                    bail!(self.failure(i, &format!("exited ({status}) before it was ready")));
                }
            }
            // One probe after another: each is bounded by its own short timeout, and a node that
            // is not up yet refuses at once.
            let mut still = Vec::new();
            for &i in &pending {
                if let Err(reason) = db.ready(&self.nodes[i]).await {
                    last_reason[i] = reason;
                    still.push(i);
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if started.elapsed() > deadline {
                let i = pending[0];
                bail!(self.failure(i, &format!("not ready after {} s ({})", deadline.as_secs(), last_reason[i])));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(started.elapsed())
    }

    fn failure(&self, i: usize, what: &str) -> String {
        let node = &self.nodes[i];
        let tail = nemesis::process::log_tail(&node.log, 12);
        let tail = if tail.trim().is_empty() { "(the log is empty)".to_string() } else { tail };
        format!("node {} ({}) {what}; the end of its log {}:\n{tail}", node.name, node.ip, node.log.display())
    }

    /// The PIDs of the running nodes.
    pub fn pids(&self) -> Vec<Option<u32>> {
        self.processes.iter().map(|p| p.as_ref().map(NodeProcess::pid)).collect()
    }

    /// Kills every node, then removes the network. Returns how long it took and any problems.
    pub fn teardown(&mut self) -> (Duration, Vec<String>) {
        let started = Instant::now();
        for p in self.processes.iter_mut().flatten() {
            let _ = p.resume();
            p.kill();
        }
        self.processes.iter_mut().for_each(|p| *p = None);
        let problems = self.net.teardown();
        (started.elapsed(), problems)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let (_, problems) = self.teardown();
        for p in problems {
            eprintln!("faultline: teardown: {p}");
        }
    }
}
