//! A running cluster: the namespaces of [`nemesis::ClusterNet`] and a node process in each.
//! Dropping it (normal end, error, panic) kills every node by PID, reaps it, and deletes the
//! namespaces, veths and bridge; signals are turned into a normal stop by the runner, which then
//! drops it too.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use nemesis::{ClusterNet, NodeProcess, RunId};

use std::collections::BTreeMap;

use nemesis::clock::ClockFile;

use crate::db::{Db, Node, StartCommand};

/// Nodes, their processes and their network.
pub struct Cluster {
    /// The nodes, in order.
    pub nodes: Vec<Node>,
    processes: Vec<Option<NodeProcess>>,
    /// How each node was started, to restart it the same way.
    commands: Vec<Option<StartCommand>>,
    /// Per-node clock files, when clock faults are on.
    clocks: Vec<ClockFile>,
    paused: Vec<bool>,
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
        let commands = nodes.iter().map(|_| None).collect();
        let paused = vec![false; nodes.len()];
        Ok(Cluster { nodes, processes, commands, clocks: Vec::new(), paused, net })
    }

    /// The address the nodes see the harness at.
    pub fn host_ip(&self) -> std::net::Ipv4Addr {
        self.net.host_ip
    }

    /// Gives every node its own clock file and starts nodes under libfaketime (for clock
    /// faults). Call before starting the nodes.
    pub fn enable_clocks(&mut self, run: &RunId) -> anyhow::Result<()> {
        self.clocks = self
            .nodes
            .iter()
            .map(|n| ClockFile::create(&run.scratch_dir().join(format!("{}.clock", n.name))))
            .collect::<Result<_, _>>()
            .context("cannot create the clock files")?;
        Ok(())
    }

    /// The clock files (empty unless clocks are enabled).
    pub fn clocks(&self) -> &[ClockFile] {
        &self.clocks
    }

    /// Creates faultline's iptables chain in every node's namespace (for network faults).
    pub fn install_fault_chains(&self) -> anyhow::Result<()> {
        for node in &self.nodes {
            nemesis::iptables::install(&node.namespace).with_context(|| format!("node {}: cannot set up iptables", node.name))?;
        }
        Ok(())
    }

    /// Starts node `i`'s process.
    pub fn start<D: Db>(&mut self, db: &D, i: usize) -> anyhow::Result<()> {
        let mut cmd = db.start_command(&self.nodes[i], &self.nodes);
        if let Some(clock) = self.clocks.get(i) {
            cmd.envs.extend(clock.env());
        }
        self.commands[i] = Some(cmd);
        self.spawn(i)
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let node = &self.nodes[i];
        let cmd = self.commands[i].as_ref().context("node was never started")?;
        let process = NodeProcess::spawn(&node.namespace, &cmd.program, &cmd.args, &cmd.envs, &node.log)
            .with_context(|| format!("node {}: cannot start {}", node.name, cmd.program))?;
        self.processes[i] = Some(process);
        self.paused[i] = false;
        Ok(())
    }

    /// SIGKILL node `i` (its data dir stays).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut p) = self.processes[i].take() {
            let _ = p.resume();
            p.kill();
        }
        self.paused[i] = false;
    }

    /// Restarts node `i` the way it was first started, on the same data dir.
    pub fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        if self.is_running(i) {
            return Ok(());
        }
        self.spawn(i)
    }

    /// Whether node `i`'s process is alive (paused counts as alive).
    pub fn is_running(&mut self, i: usize) -> bool {
        self.processes[i].as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// SIGSTOP node `i`.
    pub fn pause(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(p) = self.processes[i].as_mut() {
            p.pause().with_context(|| format!("cannot pause {}", self.nodes[i].name))?;
            self.paused[i] = true;
        }
        Ok(())
    }

    /// SIGCONT node `i`.
    pub fn resume(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(p) = self.processes[i].as_mut() {
            p.resume().with_context(|| format!("cannot resume {}", self.nodes[i].name))?;
        }
        self.paused[i] = false;
        Ok(())
    }

    /// Nodes currently paused.
    pub fn paused(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.paused[i]).collect()
    }

    /// Node name → namespace.
    pub fn namespaces(&self) -> BTreeMap<String, String> {
        self.nodes.iter().map(|n| (n.name.clone(), n.namespace.clone())).collect()
    }

    /// Node name → address.
    pub fn ips(&self) -> BTreeMap<String, std::net::Ipv4Addr> {
        self.nodes.iter().map(|n| (n.name.clone(), n.ip)).collect()
    }

    /// Undoes every fault: heals the network, resets clocks, resumes paused nodes and restarts
    /// dead ones. Returns what it had to do.
    pub fn recover(&mut self) -> anyhow::Result<Vec<String>> {
        let mut done = Vec::new();
        for node in &self.nodes {
            if nemesis::iptables::rules(&node.namespace).is_ok_and(|r| !r.is_empty()) {
                nemesis::iptables::heal(&node.namespace)?;
                done.push(format!("healed {}", node.name));
            }
        }
        for clock in &self.clocks {
            clock.set_offset_ms(0)?;
        }
        for i in self.paused() {
            self.resume(i)?;
            done.push(format!("resumed {}", self.nodes[i].name));
        }
        for i in 0..self.nodes.len() {
            if !self.is_running(i) {
                self.restart(i)?;
                done.push(format!("restarted {}", self.nodes[i].name));
            }
        }
        Ok(done)
    }

    /// Waits until every node is ready again (after [`Cluster::recover`]).
    /// (Takes the nodes, not the cluster, so that no lock is held while it waits.)
    pub async fn wait_ready<D: Db>(nodes: &[Node], db: &D, deadline: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let mut waiting = None;
            for node in nodes {
                if let Err(reason) = db.ready(node).await {
                    waiting = Some((node, reason));
                    break;
                }
            }
            match waiting {
                None => return Ok(started.elapsed()),
                Some((node, reason)) if started.elapsed() > deadline => {
                    bail!(node_failure(node, &format!("did not recover within {} s ({reason})", deadline.as_secs())))
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
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
        node_failure(&self.nodes[i], what)
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

/// "node n3 (10.…) <what>; the end of its log …" with the log's last lines.
fn node_failure(node: &Node, what: &str) -> String {
    let tail = nemesis::process::log_tail(&node.log, 12);
    let tail = if tail.trim().is_empty() { "(the log is empty)".to_string() } else { tail };
    format!("node {} ({}) {what}; the end of its log {}:\n{tail}", node.name, node.ip, node.log.display())
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let (_, problems) = self.teardown();
        for p in problems {
            eprintln!("faultline: teardown: {p}");
        }
    }
}
