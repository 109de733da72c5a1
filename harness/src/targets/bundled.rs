//! The bundled KV node (`targets::kv`, run as `faultline kv-node`): nothing to install. A libc
//! binary, so clock faults can skew it; leaderless, so it has no primaries.

use std::time::Duration;

use workloads::bundled::BundledClient;

use crate::db::{Db, Node, StartCommand};

/// The bundled target.
pub struct Bundled {
    /// The faultline binary (the node is its hidden `kv-node` subcommand).
    pub program: String,
    /// Bugs to switch on in every node (`--bug`).
    pub bugs: Vec<String>,
}

const PORT: u16 = 8080;

impl Bundled {
    /// The target, run from the current faultline binary.
    pub fn new(bugs: Vec<String>) -> anyhow::Result<Bundled> {
        let program = std::env::current_exe()?.display().to_string();
        Ok(Bundled { program, bugs })
    }

    fn url(node: &Node) -> String {
        format!("http://{}:{PORT}", node.ip)
    }
}

impl Db for Bundled {
    type Client = BundledClient;

    fn name(&self) -> &'static str {
        "bundled"
    }

    fn program(&self) -> &str {
        &self.program
    }

    fn package(&self) -> &'static str {
        "(built with faultline)"
    }

    fn start_command(&self, node: &Node, cluster: &[Node]) -> StartCommand {
        let peers: Vec<String> = cluster.iter().map(|n| format!("{}={}:{PORT}", n.name, n.ip)).collect();
        let mut args = vec![
            "kv-node".to_string(),
            "--name".into(),
            node.name.clone(),
            "--listen".into(),
            format!("{}:{PORT}", node.ip),
            "--peers".into(),
            peers.join(","),
            "--data-dir".into(),
            node.data_dir.display().to_string(),
        ];
        for bug in &self.bugs {
            args.push("--bug".into());
            args.push(bug.clone());
        }
        StartCommand { program: self.program.clone(), args, envs: Vec::new() }
    }

    async fn ready(&self, node: &Node) -> Result<(), String> {
        let http = reqwest::Client::builder().timeout(Duration::from_millis(500)).no_proxy().build().map_err(|e| e.to_string())?;
        let r = http.post(format!("{}/status", Self::url(node))).json(&serde_json::json!({})).send().await.map_err(|e| e.to_string())?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!("status {}", r.status()))
        }
    }

    fn client(&self, node: &Node, timeout: Duration) -> anyhow::Result<BundledClient> {
        Ok(BundledClient::new(&Self::url(node), timeout)?)
    }

    fn version(&self) -> Option<String> {
        Some(format!("faultline-kv {} (bundled){}", env!("CARGO_PKG_VERSION"), if self.bugs.is_empty() { String::new() } else { format!(", bugs: {}", self.bugs.join(", ")) }))
    }
}
