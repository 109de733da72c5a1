//! etcd 3.4 from Debian's `etcd-server`, flags as in DESIGN.md. A node is ready when its
//! status endpoint names a leader.

use std::time::Duration;

use workloads::etcd::EtcdClient;

use crate::db::{Db, Node, StartCommand};

/// etcd, one member per node.
pub struct Etcd {
    /// The etcd binary (`etcd` on PATH by default).
    pub binary: String,
    /// Unique per run, so members of different runs never join each other.
    pub cluster_token: String,
}

impl Etcd {
    fn client_url(node: &Node) -> String {
        format!("http://{}:2379", node.ip)
    }
}

impl Db for Etcd {
    type Client = EtcdClient;

    fn name(&self) -> &'static str {
        "etcd"
    }

    fn program(&self) -> &str {
        &self.binary
    }

    fn package(&self) -> &'static str {
        "etcd-server"
    }

    fn start_command(&self, node: &Node, cluster: &[Node]) -> StartCommand {
        let peers: Vec<String> = cluster.iter().map(|n| format!("{}=http://{}:2380", n.name, n.ip)).collect();
        let url = Self::client_url(node);
        let peer_url = format!("http://{}:2380", node.ip);
        let args = [
            "--name", &node.name,
            "--data-dir", &node.data_dir.display().to_string(),
            "--listen-client-urls", &url,
            "--advertise-client-urls", &url,
            "--listen-peer-urls", &peer_url,
            "--initial-advertise-peer-urls", &peer_url,
            "--initial-cluster", &peers.join(","),
            "--initial-cluster-state", "new",
            "--initial-cluster-token", &self.cluster_token,
        ];
        StartCommand { program: self.binary.clone(), args: args.iter().map(|a| a.to_string()).collect(), envs: Vec::new() }
    }

    async fn ready(&self, node: &Node) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let status = http
            .post(format!("{}/v3/maintenance/status", Self::client_url(node)))
            .json(&serde_json::json!({}))
            .send()
            .await
            .map_err(|e| format!("status endpoint: {e}"))?;
        let body: serde_json::Value = status.json().await.map_err(|e| format!("status body: {e}"))?;
        match body["leader"].as_str() {
            Some(leader) if leader != "0" => Ok(()),
            _ => Err("no leader yet".into()),
        }
    }

    /// The member whose id every reachable node reports as leader.
    async fn primaries(&self, nodes: &[Node]) -> Vec<usize> {
        let Ok(http) = reqwest::Client::builder().timeout(Duration::from_millis(500)).no_proxy().build() else { return Vec::new() };
        let mut ids = Vec::new();
        let mut leaders = Vec::new();
        for node in nodes {
            let body: Option<serde_json::Value> = match http
                .post(format!("{}/v3/maintenance/status", Self::client_url(node)))
                .json(&serde_json::json!({}))
                .send()
                .await
            {
                Ok(r) => r.json().await.ok(),
                Err(_) => None,
            };
            ids.push(body.as_ref().and_then(|b| b["header"]["member_id"].as_str().map(str::to_string)));
            if let Some(leader) = body.as_ref().and_then(|b| b["leader"].as_str()) {
                leaders.push(leader.to_string());
            }
        }
        (0..nodes.len()).filter(|&i| ids[i].as_ref().is_some_and(|id| leaders.contains(id))).collect()
    }

    fn client(&self, node: &Node, timeout: Duration) -> anyhow::Result<EtcdClient> {
        Ok(EtcdClient::new(&Self::client_url(node), timeout)?)
    }

    fn version(&self) -> Option<String> {
        let out = std::process::Command::new(&self.binary).arg("--version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().find(|l| l.starts_with("etcd Version")).map(|l| l.trim().to_string())
    }
}
