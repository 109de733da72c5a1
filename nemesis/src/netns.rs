//! A cluster's network on one machine: one namespace per node, veth pairs to a bridge in the root
//! namespace, a private /24 per run. The harness reaches the nodes through the bridge's address.
//!
//! Names (all derived from the run id, so a sweep can tell ours from anything else):
//! namespace `fl-<id>-n1`, bridge `fl<id>br`, host end of a veth `fl<id>n1`, a lock file
//! `/run/faultline/<id>.lock`, scratch space `/tmp/faultline-<id>`.
//!
//! A run holds an exclusive `flock` on its lock file for its whole life; the kernel releases it
//! when the process dies, however it dies. `faultline clean` removes only runs whose lock it
//! can take: whether a run is alive never depends on a process's name.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::command::{run as ip_run, CommandError};

/// A run's identity: six hex digits, unique enough among the runs sharing a machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunId(String);

impl RunId {
    /// A fresh id from the clock and the process id.
    pub fn fresh() -> RunId {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let mut x = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
        x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        RunId(format!("{:06x}", x & 0xFF_FFFF))
    }

    /// Parses an id (six lowercase hex digits).
    pub fn parse(s: &str) -> Option<RunId> {
        (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then(|| RunId(s.to_string()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn namespace(&self, node: &str) -> String {
        format!("fl-{}-{node}", self.0)
    }
    fn bridge(&self) -> String {
        format!("fl{}br", self.0)
    }
    fn veth(&self, node: &str) -> String {
        format!("fl{}{node}", self.0)
    }
    fn lock_path(&self) -> PathBuf {
        PathBuf::from(LOCK_DIR).join(format!("{}.lock", self.0))
    }

    /// Takes the run's lock, without waiting: `None` when another process holds it.
    fn try_lock(&self) -> std::io::Result<Option<nix::fcntl::Flock<std::fs::File>>> {
        std::fs::create_dir_all(LOCK_DIR)?;
        let file = std::fs::File::options().create(true).truncate(false).write(true).open(self.lock_path())?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(lock)),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(e.into()),
        }
    }
    /// Scratch space for this run (node data dirs), removed at teardown.
    pub fn scratch_dir(&self) -> PathBuf {
        std::env::temp_dir().join(format!("faultline-{}", self.0))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const LOCK_DIR: &str = "/run/faultline";

/// Runs `ip args…`.
fn ip(args: &[&str]) -> Result<String, CommandError> {
    ip_run("ip", args)
}

/// One node's place on the network.
#[derive(Clone, Debug)]
pub struct NodeNet {
    /// `n1`, `n2`, …
    pub name: String,
    /// Its network namespace.
    pub namespace: String,
    /// Its address on the bridge.
    pub ip: Ipv4Addr,
}

/// The namespaces, veths and bridge of one run. Torn down by [`ClusterNet::teardown`] or when
/// dropped, whatever happened before.
#[derive(Debug)]
pub struct ClusterNet {
    /// The run.
    pub run: RunId,
    /// The nodes, in order.
    pub nodes: Vec<NodeNet>,
    /// The bridge's address: where the nodes see the harness.
    pub host_ip: Ipv4Addr,
    torn_down: bool,
    /// Held for the run's life: tells `faultline clean` the run is alive.
    lock: Option<nix::fcntl::Flock<std::fs::File>>,
}

impl ClusterNet {
    /// Creates `count` namespaces on a fresh bridge. Needs root. On failure, whatever was made
    /// is removed again.
    pub fn create(run: RunId, count: usize) -> Result<ClusterNet, CommandError> {
        assert!((1..=200).contains(&count), "1 to 200 nodes");
        let lock =
            run.try_lock().map_err(|source| CommandError::Spawn { command: format!("flock {}", run.lock_path().display()), source })?;
        let Some(lock) = lock else {
            return Err(CommandError::Failed {
                command: format!("flock {}", run.lock_path().display()),
                status: "held".into(),
                stderr: format!("run id {run} is in use by another run"),
            });
        };
        // Choosing a free subnet and claiming it (the bridge's address) happen under a lock, so
        // that runs starting at once (a campaign's --jobs) never pick the same one.
        let subnet_lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(LOCK_DIR).join("subnets.lock"))
            .and_then(|f| nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| e.into()))
            .map_err(|source| CommandError::Spawn { command: "flock /run/faultline/subnets.lock".into(), source })?;
        let subnet = free_subnet(&run)?;
        let mut net = ClusterNet {
            run: run.clone(),
            nodes: Vec::new(),
            host_ip: Ipv4Addr::new(subnet[0], subnet[1], subnet[2], 254),
            torn_down: false,
            lock: Some(lock),
        };
        // From here on, dropping `net` undoes whatever step failed half-way.
        let bridge = run.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}/24", net.host_ip), "dev", &bridge])?;
        drop(subnet_lock);
        ip(&["link", "set", &bridge, "up"])?;
        for i in 0..count {
            let name = format!("n{}", i + 1);
            let ns = run.namespace(&name);
            let veth = run.veth(&name);
            let peer = format!("{veth}p");
            let addr = Ipv4Addr::new(subnet[0], subnet[1], subnet[2], i as u8 + 1);
            ip(&["netns", "add", &ns])?;
            net.nodes.push(NodeNet { name, namespace: ns.clone(), ip: addr });
            ip(&["link", "add", &veth, "type", "veth", "peer", "name", &peer])?;
            ip(&["link", "set", &peer, "netns", &ns])?;
            ip(&["-n", &ns, "link", "set", &peer, "name", "eth0"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{addr}/24"), "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["link", "set", &veth, "master", &bridge])?;
            ip(&["link", "set", &veth, "up"])?;
        }
        Ok(net)
    }

    /// Kills whatever still runs in the namespaces, deletes them, the bridge, the marker and the
    /// scratch space. Safe to call twice; errors are collected, not fatal.
    pub fn teardown(&mut self) -> Vec<String> {
        if self.torn_down {
            return Vec::new();
        }
        self.torn_down = true;
        let mut problems = Vec::new();
        for node in &self.nodes {
            kill_namespace_processes(&node.namespace, &mut problems);
            if let Err(e) = ip(&["netns", "del", &node.namespace]) {
                problems.push(e.to_string());
            }
        }
        // Deleting a namespace destroys its veth pair; the host ends go with it. Only links of a
        // half-built node can remain.
        for node in &self.nodes {
            let _ = ip(&["link", "del", &self.run.veth(&node.name)]);
        }
        if let Err(e) = ip(&["link", "del", &self.run.bridge()]) {
            problems.push(e.to_string());
        }
        let _ = std::fs::remove_dir_all(self.run.scratch_dir());
        // Last: until the lock file goes, `clean` sees a live run and leaves it alone.
        let _ = std::fs::remove_file(self.run.lock_path());
        self.lock = None;
        problems
    }
}

impl Drop for ClusterNet {
    fn drop(&mut self) {
        for problem in self.teardown() {
            eprintln!("faultline: teardown: {problem}");
        }
    }
}

fn kill_namespace_processes(namespace: &str, problems: &mut Vec<String>) {
    let Ok(pids) = ip(&["netns", "pids", namespace]) else { return };
    for pid in pids.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
        // Everything in our namespace was started by us.
        if let Err(e) = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL) {
            problems.push(format!("kill {pid} in {namespace}: {e}"));
        }
    }
}

/// A /24 in 10.200.0.0–10.249.255.0 that no interface on this machine uses yet.
fn free_subnet(run: &RunId) -> Result<[u8; 3], CommandError> {
    let used = ip(&["-o", "-4", "addr", "show"])?;
    let seed = u32::from_str_radix(run.as_str(), 16).unwrap_or(0);
    for attempt in 0..512u32 {
        let x = seed.wrapping_add(attempt.wrapping_mul(7919));
        let subnet = [10, 200 + (x % 50) as u8, (x >> 8) as u8];
        let prefix = format!(" {}.{}.{}.", subnet[0], subnet[1], subnet[2]);
        if !used.contains(&prefix) {
            return Ok(subnet);
        }
    }
    Err(CommandError::Failed {
        command: "ip -o -4 addr show".into(),
        status: "no free subnet".into(),
        stderr: "every 10.200-249.x.0/24 subnet tried is in use".into(),
    })
}

/// What [`clean_leftovers`] removed.
#[derive(Debug, Default)]
pub struct CleanReport {
    /// Runs whose leftovers were removed.
    pub runs: Vec<String>,
    /// Namespaces deleted.
    pub namespaces: usize,
    /// Links deleted.
    pub links: usize,
    /// Runs left alone because their harness is still running.
    pub live_runs: Vec<String>,
    /// What could not be removed.
    pub problems: Vec<String>,
    /// System clocks put back (runs killed mid clock fault).
    pub clock_restored: Vec<String>,
}

/// Removes what runs that no longer have a live harness left behind: their processes,
/// namespaces, links, markers and scratch space. Touches only names of faultline's pattern.
pub fn clean_leftovers() -> Result<CleanReport, CommandError> {
    let mut report = CleanReport::default();
    let namespaces = ip(&["netns", "list"])?;
    let links = ip(&["-o", "link", "show"])?;
    let mut runs: std::collections::BTreeSet<String> = Default::default();
    for ns in namespaces.lines().filter_map(|l| l.split_whitespace().next()) {
        if let Some(id) = ns.strip_prefix("fl-").and_then(|r| r.split('-').next()).and_then(RunId::parse) {
            runs.insert(id.0);
        }
    }
    for name in links.lines().filter_map(|l| l.split(':').nth(1)).map(|n| n.trim().split('@').next().unwrap_or("")) {
        if let Some(id) = name.strip_prefix("fl").filter(|r| r.len() > 6).and_then(|r| RunId::parse(&r[..6])) {
            runs.insert(id.0);
        }
    }
    if let Ok(entries) = std::fs::read_dir(LOCK_DIR) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_str().unwrap_or("");
            // `.pid` markers are from versions before the lock; the lock decides either way.
            if let Some(id) = name.strip_suffix(".lock").or_else(|| name.strip_suffix(".pid")).and_then(RunId::parse) {
                runs.insert(id.0);
            }
        }
    }
    for id in runs {
        let run_id = RunId(id.clone());
        // Held until this run is cleaned, so that no run can start under the same id meanwhile.
        let _lock = match run_id.try_lock() {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                report.live_runs.push(id);
                continue;
            }
            Err(e) => {
                report.problems.push(format!("run {id}: cannot take its lock {}: {e}", run_id.lock_path().display()));
                continue;
            }
        };
        for ns in namespaces.lines().filter_map(|l| l.split_whitespace().next()) {
            if ns.starts_with(&format!("fl-{id}-")) {
                kill_namespace_processes(ns, &mut report.problems);
                match ip(&["netns", "del", ns]) {
                    Ok(_) => report.namespaces += 1,
                    Err(e) => report.problems.push(e.to_string()),
                }
            }
        }
        let ours = |name: &str| name.starts_with(&format!("fl{id}")) && (name.ends_with("br") || name[8..].starts_with('n'));
        for name in links.lines().filter_map(|l| l.split(':').nth(1)).map(|n| n.trim().split('@').next().unwrap_or("")) {
            if name.len() > 8 && ours(name) && ip(&["link", "del", name]).is_ok() {
                report.links += 1;
            }
        }
        // A run killed in the middle of a system clock fault left the clock moved.
        match crate::clock::restore_from_record(&run_id.scratch_dir().join(crate::clock::SYSTEM_CLOCK_RECORD)) {
            Ok(Some(off_ms)) => report.clock_restored.push(format!("run {id}: the system clock was off by {off_ms:.3} ms; restored")),
            Ok(None) => {}
            Err(e) => report.problems.push(format!("run {id}: cannot restore the system clock: {e}")),
        }
        let _ = std::fs::remove_dir_all(run_id.scratch_dir());
        let _ = std::fs::remove_file(PathBuf::from(LOCK_DIR).join(format!("{id}.pid")));
        let _ = std::fs::remove_file(run_id.lock_path());
        report.runs.push(id);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_linux_limits_and_match_the_sweep_pattern() {
        let id = RunId::fresh();
        assert_eq!(id.as_str().len(), 6);
        assert!(RunId::parse(id.as_str()).is_some());
        assert!(RunId::parse("ABCDEF").is_none() && RunId::parse("abc").is_none());
        // Interface names are at most 15 bytes.
        assert!(id.bridge().len() <= 15);
        assert!(format!("{}p", id.veth("n200")).len() <= 15);
        assert!(id.namespace("n1").starts_with("fl-"));
    }
}
