//! etcd 3.4 from Debian's `etcd-server`, one member per node, flags as in DESIGN.md. A node is
//! ready when its status endpoint names a leader; the primary is the member every reachable
//! node names as leader. A Go binary: clock faults cannot skew it (libfaketime), and say so.

mod bank;
mod client;
mod list_append;
mod lock;

pub use client::EtcdClient;
pub use lock::EtcdLock;

use std::time::Duration;

use serde_json::Value;
use workloads::{BoxFuture, Client, Workload};

use crate::db::{version_line, ClientOptions, Db, DbError, Node, NotReady, ProcessSpec, Requirement};

/// etcd, one member per node.
pub struct Etcd {
    /// The etcd binary (`etcd` on PATH by default, or a path).
    pub binary: String,
    /// Reads served by one node without a quorum (`serializable`): may be stale.
    pub serializable_reads: bool,
    /// Seconds a lock's lease lives without a keep-alive.
    pub lock_ttl: u64,
}

impl Etcd {
    fn client_url(node: &Node) -> String {
        format!("http://{}:2379", node.ip)
    }

    async fn status(http: &reqwest::Client, node: &Node) -> Result<Value, NotReady> {
        let response = http
            .post(format!("{}/v3/maintenance/status", Self::client_url(node)))
            .json(&serde_json::json!({}))
            .send()
            .await
            .map_err(|e| NotReady(format!("status endpoint: {e}")))?;
        response.json().await.map_err(|e| NotReady(format!("status body: {e}")))
    }

    fn http() -> Result<reqwest::Client, NotReady> {
        reqwest::Client::builder().timeout(Duration::from_millis(500)).no_proxy().build().map_err(NotReady::because)
    }
}

impl Db for Etcd {
    fn name(&self) -> &str {
        if self.serializable_reads {
            "etcd-serializable"
        } else {
            "etcd"
        }
    }

    fn requirements(&self) -> Vec<Requirement> {
        vec![Requirement { program: self.binary.clone(), package: Some("etcd-server".into()) }]
    }

    fn operations(&self) -> Vec<&'static str> {
        vec!["read", "write", "cas", "add", "acquire", "release", "transfer", "txn"]
    }

    fn processes(&self, node: &Node, cluster: &[Node], run_id: &str) -> Vec<ProcessSpec> {
        let peers: Vec<String> = cluster.iter().map(|n| format!("{}=http://{}:2380", n.name, n.ip)).collect();
        let url = Self::client_url(node);
        let peer_url = format!("http://{}:2380", node.ip);
        let token = format!("faultline-{run_id}");
        let args = [
            "--name",
            &node.name,
            "--data-dir",
            &node.data_dir.display().to_string(),
            "--listen-client-urls",
            &url,
            "--advertise-client-urls",
            &url,
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
            "--initial-cluster",
            &peers.join(","),
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            &token,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        vec![ProcessSpec {
            name: "node".into(),
            program: self.binary.clone(),
            args,
            envs: Vec::new(),
            files: Vec::new(),
            stop_signal: None,
        }]
    }

    fn ready<'a>(&'a self, node: &'a Node, _cluster: &'a [Node]) -> BoxFuture<'a, Result<(), NotReady>> {
        Box::pin(async move {
            let body = Self::status(&Self::http()?, node).await?;
            match body["leader"].as_str() {
                Some(leader) if leader != "0" => Ok(()),
                _ => Err(NotReady("no leader yet".into())),
            }
        })
    }

    /// The member whose id every reachable node reports as leader.
    fn primaries<'a>(&'a self, cluster: &'a [Node]) -> BoxFuture<'a, Vec<usize>> {
        Box::pin(async move {
            let Ok(http) = Self::http() else { return Vec::new() };
            let mut ids = Vec::new();
            let mut leaders = Vec::new();
            for node in cluster {
                let body = Self::status(&http, node).await.ok();
                ids.push(body.as_ref().and_then(|b| b["header"]["member_id"].as_str().map(str::to_string)));
                if let Some(leader) = body.as_ref().and_then(|b| b["leader"].as_str()) {
                    leaders.push(leader.to_string());
                }
            }
            (0..cluster.len()).filter(|&i| ids[i].as_ref().is_some_and(|id| leaders.contains(id))).collect()
        })
    }

    fn client(&self, workload: &dyn Workload, node: &Node, options: &ClientOptions) -> Result<Box<dyn Client>, DbError> {
        self.supports(workload)?;
        if workload.operations().contains(&"acquire") {
            let lock = EtcdLock::new(&Self::client_url(node), options.timeout, self.lock_ttl)
                .map_err(|e| DbError::Client { node: node.name.clone(), message: e.to_string() })?;
            return Ok(Box::new(lock));
        }
        let client = EtcdClient::new(&Self::client_url(node), workload.name(), options.timeout, self.serializable_reads)
            .map_err(|e| DbError::Client { node: node.name.clone(), message: e.to_string() })?;
        Ok(Box::new(client))
    }

    fn version(&self) -> Option<String> {
        version_line(&self.binary, "etcd Version")
    }
}
