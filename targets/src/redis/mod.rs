//! Redis 7 with Sentinel, from Debian's `redis-server` and `redis-sentinel`: primary/replica
//! with asynchronous replication and automatic failover, the system Jepsen showed in 2013 to
//! lose acknowledged writes under a partition ("last failover wins", in Redis's own words).
//!
//! Each node runs two processes in its namespace: a redis-server (n1 the first primary, the
//! others `--replicaof n1`) and a sentinel (its own writable config file, monitoring the
//! primary with a quorum of a majority). Nothing is persisted: a killed node restarts empty and
//! resyncs from whoever is primary then. Clients ask their own node's sentinel who the primary
//! is before each write (and after an error), as applications do.
//!
//! Readiness: the server answers, a replica's link to its primary is up, and the node's
//! sentinel knows the primary, the other sentinels and every replica. Primaries: what the
//! sentinels say, by majority.

mod client;

pub use client::RedisClient;

use std::time::Duration;

use workloads::{BoxFuture, Client, Workload};

use crate::db::{ClientOptions, Db, DbError, Node, NotReady, ProcessSpec, Requirement};

/// The server's port.
pub const PORT: u16 = 6379;
/// The sentinel's port.
pub const SENTINEL_PORT: u16 = 26379;
/// The name the sentinels monitor the primary under.
pub const MASTER: &str = "faultline";

/// Redis with Sentinel, one server and one sentinel per node.
#[derive(Clone, Debug)]
pub struct Redis {
    /// The redis-server binary.
    pub server: String,
    /// The redis-sentinel binary.
    pub sentinel: String,
    /// Sentinel's `down-after-milliseconds`: how long the primary must be unreachable before a
    /// sentinel calls it down.
    pub down_after_ms: u64,
    /// Sentinel's `failover-timeout`, in milliseconds.
    pub failover_timeout_ms: u64,
    /// The primary's `min-replicas-to-write`: with N > 0 it refuses writes unless N replicas
    /// acknowledged it within `min_replicas_max_lag` seconds (0, as shipped: never refuses).
    pub min_replicas_to_write: u32,
    /// `min-replicas-max-lag`, in seconds.
    pub min_replicas_max_lag: u32,
}

impl Redis {
    /// Redis with Debian's binaries and these sentinel and replication settings.
    pub fn new(down_after_ms: u64, failover_timeout_ms: u64, min_replicas_to_write: u32, min_replicas_max_lag: u32) -> Redis {
        Redis {
            server: "redis-server".into(),
            sentinel: "redis-sentinel".into(),
            down_after_ms,
            failover_timeout_ms,
            min_replicas_to_write,
            min_replicas_max_lag,
        }
    }

    fn sentinel_config(&self, node: &Node, cluster: &[Node]) -> String {
        let quorum = cluster.len() / 2 + 1;
        let primary = &cluster[0].ip;
        format!(
            "port {SENTINEL_PORT}\nbind {ip}\nprotected-mode no\ndir {dir}\nsentinel resolve-hostnames no\n\
             sentinel monitor {MASTER} {primary} {PORT} {quorum}\nsentinel down-after-milliseconds {MASTER} {down}\n\
             sentinel failover-timeout {MASTER} {failover}\nsentinel parallel-syncs {MASTER} 1\n",
            ip = node.ip,
            dir = node.data_dir.display(),
            down = self.down_after_ms,
            failover = self.failover_timeout_ms,
        )
    }

    fn server_args(&self, node: &Node, cluster: &[Node]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--port",
            &PORT.to_string(),
            "--bind",
            &node.ip.to_string(),
            "--protected-mode",
            "no",
            "--dir",
            &node.data_dir.display().to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            "--min-replicas-to-write",
            &self.min_replicas_to_write.to_string(),
            "--min-replicas-max-lag",
            &self.min_replicas_max_lag.to_string(),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        if node.name != cluster[0].name {
            args.extend(["--replicaof".to_string(), cluster[0].ip.to_string(), PORT.to_string()]);
        }
        args
    }
}

impl Db for Redis {
    fn name(&self) -> &str {
        "redis"
    }

    fn requirements(&self) -> Vec<Requirement> {
        vec![
            Requirement { program: self.server.clone(), package: Some("redis-server".into()) },
            Requirement { program: self.sentinel.clone(), package: Some("redis-sentinel".into()) },
        ]
    }

    fn operations(&self) -> Vec<&'static str> {
        vec!["read", "write", "cas", "add"]
    }

    fn processes(&self, node: &Node, cluster: &[Node], _run_id: &str) -> Vec<ProcessSpec> {
        let config = node.data_dir.join("sentinel.conf");
        vec![
            ProcessSpec {
                name: "server".into(),
                program: self.server.clone(),
                args: self.server_args(node, cluster),
                envs: Vec::new(),
                files: Vec::new(),
                stop_signal: None,
            },
            ProcessSpec {
                name: "sentinel".into(),
                program: self.sentinel.clone(),
                args: vec![config.display().to_string()],
                envs: Vec::new(),
                // Written once: the sentinel rewrites it with what it learns, and keeps that
                // across a restart.
                files: vec![(config, self.sentinel_config(node, cluster))],
                stop_signal: None,
            },
        ]
    }

    fn ready<'a>(&'a self, node: &'a Node, cluster: &'a [Node]) -> BoxFuture<'a, Result<(), NotReady>> {
        Box::pin(async move { client::node_ready(node, cluster, timeout()).await })
    }

    /// The primary the sentinels name, by majority of those that answer.
    fn primaries<'a>(&'a self, cluster: &'a [Node]) -> BoxFuture<'a, Vec<usize>> {
        Box::pin(async move {
            let mut votes: std::collections::BTreeMap<String, usize> = Default::default();
            for node in cluster {
                if let Ok(Some((ip, _))) = client::primary_of(node, timeout()).await {
                    *votes.entry(ip).or_default() += 1;
                }
            }
            let Some((ip, _)) = votes.into_iter().filter(|(_, n)| *n > cluster.len() / 2).max_by_key(|(_, n)| *n) else {
                return Vec::new();
            };
            cluster.iter().position(|n| n.ip.to_string() == ip).into_iter().collect()
        })
    }

    fn client(&self, workload: &dyn Workload, node: &Node, options: &ClientOptions) -> Result<Box<dyn Client>, DbError> {
        self.supports(workload)?;
        Ok(Box::new(RedisClient::new(node, workload.name(), options.timeout)))
    }

    fn version(&self) -> Option<String> {
        crate::db::version_line(&self.server, "Redis server")
    }
}

fn timeout() -> Duration {
    Duration::from_millis(500)
}
