//! A running cluster: the namespaces of [`nemesis::ClusterNet`] and each node's processes in
//! them (one or more per node, as the target says). It is what faults act on
//! ([`ClusterControl`]). Dropping it (normal end, error, panic) kills every process by PID,
//! reaps it, and deletes the namespaces, veths and bridge.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use nemesis::faults::{ClusterControl, FaultError};
use nemesis::{ClusterNet, NodeNet, NodeProcess, RunId};
use targets::{Db, Node, ProcessSpec};

/// How long a (re)started process must stay up to count as started: one that exits at once
/// (port taken, binary gone) is a failed restart, not a restart.
const SETTLE: Duration = Duration::from_millis(150);

/// How long processes with a stop signal get to exit at the end, before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Nodes, their processes and their network.
pub struct Cluster {
    /// The nodes, in order.
    pub nodes: Vec<Node>,
    run_id: String,
    /// Per node: how its processes are started (kept to restart them the same way).
    specs: Vec<Vec<ProcessSpec>>,
    /// Per node: environment added by faults (libfaketime's).
    envs: Vec<Vec<(String, String)>>,
    processes: Vec<Vec<NodeProcess>>,
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
            nodes.push(Node { name: n.name.clone(), namespace: n.namespace.clone(), ip: n.ip, data_dir, log_dir });
        }
        Ok(Cluster {
            specs: vec![Vec::new(); count],
            envs: vec![Vec::new(); count],
            processes: (0..count).map(|_| Vec::new()).collect(),
            run_id: run.as_str().to_string(),
            nodes,
            net,
        })
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Starts every node's processes and waits until all nodes are ready, or fails naming the
    /// node that is not, with the end of its log. `cancelled` is polled while waiting.
    pub async fn start_all(&mut self, db: &dyn Db, deadline: Duration, cancelled: impl Fn() -> bool) -> anyhow::Result<Duration> {
        let started = Instant::now();
        for i in 0..self.nodes.len() {
            self.specs[i] = db.processes(&self.nodes[i], &self.nodes, &self.run_id);
            // No settling here: the loop below notices a process that exits, with its log.
            self.spawn(i, false).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let mut pending: Vec<usize> = (0..self.nodes.len()).collect();
        let mut last_reason = vec![String::new(); self.nodes.len()];
        while !pending.is_empty() {
            if cancelled() {
                bail!("stopped while the cluster was starting");
            }
            for &i in &pending {
                if let Some((name, status)) = self.exited(i) {
                    bail!(self.failure(i, &format!("exited ({status}) before it was ready"), &name));
                }
            }
            // One probe after another: each is bounded by its own short timeout, and a node that
            // is not up yet refuses at once.
            let mut still = Vec::new();
            for &i in &pending {
                if let Err(reason) = db.ready(&self.nodes[i], &self.nodes).await {
                    last_reason[i] = reason.to_string();
                    still.push(i);
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if started.elapsed() > deadline {
                let i = pending[0];
                let process = self.specs[i].first().map(|s| s.name.clone()).unwrap_or_default();
                bail!(self.failure(i, &format!("not ready after {} s ({})", deadline.as_secs(), last_reason[i]), &process));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(started.elapsed())
    }

    /// Waits until every node is ready again (after the final heal). Takes the nodes, not the
    /// cluster, so that no lock is held while it waits.
    pub async fn wait_ready(nodes: &[Node], db: &dyn Db, deadline: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let mut waiting = None;
            for node in nodes {
                if let Err(reason) = db.ready(node, nodes).await {
                    waiting = Some((node, reason));
                    break;
                }
            }
            match waiting {
                None => return Ok(started.elapsed()),
                Some((node, reason)) if started.elapsed() > deadline => {
                    bail!("node {} ({}) did not recover within {} s ({reason})", node.name, node.ip, deadline.as_secs())
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Starts node `i`'s processes. With `settle`, waits a moment: a process that exits at
    /// once is an error naming it, with the end of its log.
    fn spawn(&mut self, i: usize, settle: bool) -> Result<(), FaultError> {
        let node = &self.nodes[i];
        if !namespace_exists(&node.namespace) {
            return Err(FaultError::Node {
                node: node.name.clone(),
                message: format!("its network namespace {} is gone (removed by someone else?)", node.namespace),
            });
        }
        for spec in &self.specs[i] {
            for (path, contents) in &spec.files {
                if !path.exists() {
                    std::fs::write(path, contents)
                        .map_err(|e| FaultError::io(format!("node {}: writing {}", node.name, path.display()), e))?;
                }
            }
            let mut envs = spec.envs.clone();
            envs.extend(self.envs[i].iter().cloned());
            let log = node.log_dir.join(format!("{}.log", spec.name));
            // Marks each start in the log (a readiness check on the log looks after the last),
            // with the command, for whoever debugs a node that would not start.
            let command: Vec<String> = std::iter::once(&spec.program).chain(&spec.args).map(|w| crate::config::shell_quote(w)).collect();
            let marker = format!("{} {} ===\n", targets::spec::START_MARKER, command.join(" "));
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .and_then(|mut f| std::io::Write::write_all(&mut f, marker.as_bytes()))
                .map_err(|e| FaultError::io(format!("node {}: writing {}", node.name, log.display()), e))?;
            let process = NodeProcess::spawn(&node.namespace, &spec.program, &spec.args, &envs, &log)
                .map_err(|e| FaultError::Node { node: node.name.clone(), message: format!("cannot start {}: {e}", spec.program) })?;
            self.processes[i].push(process);
        }
        if !settle {
            return Ok(());
        }
        std::thread::sleep(SETTLE);
        if let Some((name, status)) = self.exited(i) {
            let message =
                format!("its {name} process exited ({status}) right after starting; the end of its log:\n{}", self.log_tail(i, &name));
            return Err(FaultError::Node { node: self.nodes[i].name.clone(), message });
        }
        Ok(())
    }

    /// The first of node `i`'s processes that has exited, with its status.
    fn exited(&mut self, i: usize) -> Option<(String, std::process::ExitStatus)> {
        let names: Vec<String> = self.specs[i].iter().map(|s| s.name.clone()).collect();
        self.processes[i].iter_mut().zip(names).find_map(|(p, name)| p.exited().map(|status| (name, status)))
    }

    fn log_tail(&self, i: usize, process: &str) -> String {
        let tail = nemesis::process::log_tail(&self.nodes[i].log_dir.join(format!("{process}.log")), 12);
        if tail.trim().is_empty() {
            "(the log is empty)".to_string()
        } else {
            tail
        }
    }

    /// "node n3 (10.…) <what>; the end of its log …".
    fn failure(&self, i: usize, what: &str, process: &str) -> String {
        let node = &self.nodes[i];
        let log = node.log_dir.join(format!("{process}.log"));
        format!("node {} ({}) {what}; the end of its log {}:\n{}", node.name, node.ip, log.display(), self.log_tail(i, process))
    }

    /// Copies the files the target names as logs into each node's log directory (before the
    /// teardown removes the data directories); says what could not be copied.
    pub fn collect_logs(&self, db: &dyn Db) -> Vec<String> {
        let mut problems = Vec::new();
        for node in &self.nodes {
            for file in db.log_files(node) {
                let Some(name) = file.file_name() else { continue };
                if let Err(e) = std::fs::copy(&file, node.log_dir.join(name)) {
                    problems.push(format!("cannot copy {} of {}: {e}", file.display(), node.name));
                }
            }
        }
        problems
    }

    /// Kills every process, then removes the network. Returns how long it took and any problems.
    pub fn teardown(&mut self) -> (Duration, Vec<String>) {
        let started = Instant::now();
        // Processes the target stops politely get the signal, and a moment to exit.
        let mut signalled = Vec::new();
        for (i, (processes, specs)) in self.processes.iter_mut().zip(&self.specs).enumerate() {
            for (j, (p, spec)) in processes.iter_mut().zip(specs).enumerate() {
                let Some(signal) = spec.stop_signal.as_deref().and_then(|s| s.parse::<nix::sys::signal::Signal>().ok()) else { continue };
                let _ = p.resume();
                if p.signal(signal).is_ok() {
                    signalled.push((i, j));
                }
            }
        }
        while started.elapsed() < STOP_GRACE && signalled.iter().any(|&(i, j)| self.processes[i][j].exited().is_none()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for p in self.processes.iter_mut().flatten() {
            let _ = p.resume();
            p.kill();
        }
        self.processes.iter_mut().for_each(Vec::clear);
        let problems = self.net.teardown();
        (started.elapsed(), problems)
    }

    /// The PIDs of the running processes, per node.
    pub fn pids(&self) -> Vec<Vec<u32>> {
        self.processes.iter().map(|ps| ps.iter().map(NodeProcess::pid).collect()).collect()
    }
}

fn namespace_exists(namespace: &str) -> bool {
    Path::new("/run/netns").join(namespace).exists()
}

fn node_error(node: &Node, what: &str, e: impl std::fmt::Display) -> FaultError {
    FaultError::Node { node: node.name.clone(), message: format!("{what}: {e}") }
}

impl ClusterControl for Cluster {
    fn nodes(&self) -> &[NodeNet] {
        &self.net.nodes
    }

    fn kill(&mut self, node: usize) -> Result<(), FaultError> {
        for p in &mut self.processes[node] {
            let _ = p.resume();
            p.kill();
        }
        self.processes[node].clear();
        Ok(())
    }

    fn restart(&mut self, node: usize) -> Result<(), FaultError> {
        if self.is_running(node) {
            return Ok(());
        }
        // Reap what is left of it (one process of several may have died alone).
        self.kill(node)?;
        self.spawn(node, true)
    }

    fn pause(&mut self, node: usize) -> Result<(), FaultError> {
        let n = &self.nodes[node];
        for p in &mut self.processes[node] {
            p.pause().map_err(|e| node_error(n, "cannot pause", e))?;
        }
        Ok(())
    }

    fn resume(&mut self, node: usize) -> Result<(), FaultError> {
        let n = &self.nodes[node];
        for p in &mut self.processes[node] {
            p.resume().map_err(|e| node_error(n, "cannot resume", e))?;
        }
        Ok(())
    }

    fn is_running(&mut self, node: usize) -> bool {
        !self.processes[node].is_empty() && self.exited(node).is_none()
    }

    fn add_env(&mut self, node: usize, vars: Vec<(String, String)>) {
        self.envs[node].extend(vars);
    }

    fn scratch_dir(&self) -> PathBuf {
        RunId::parse(&self.run_id).map(|r| r.scratch_dir()).unwrap_or_else(std::env::temp_dir)
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
