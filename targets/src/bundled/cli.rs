//! `faultline kv-node …`: the command line of one bundled node, as the bundled target starts it.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::node::{run, Bug, NodeArgs};

/// Arguments of the hidden `faultline kv-node` subcommand.
#[derive(clap::Args, Debug)]
pub struct NodeCli {
    /// This node's name (one of --peers).
    #[arg(long)]
    pub name: String,
    /// The address to listen on.
    #[arg(long)]
    pub listen: SocketAddr,
    /// Every node: `name=ip:port,…`.
    #[arg(long)]
    pub peers: String,
    /// Where the acceptor's state lives.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Bugs to switch on.
    #[arg(long, value_enum)]
    pub bug: Vec<Bug>,
}

impl NodeCli {
    /// Runs the node until it is killed. A malformed `--peers` is an error naming the entry.
    pub fn run(self) -> anyhow::Result<()> {
        let peers = self
            .peers
            .split(',')
            .map(|p| {
                let (name, addr) = p.split_once('=').ok_or_else(|| anyhow::anyhow!("--peers: `{p}` is not name=ip:port"))?;
                let addr = addr.parse().map_err(|e| anyhow::anyhow!("--peers: `{addr}`: {e}"))?;
                Ok((name.to_string(), addr))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        run(NodeArgs { name: self.name, listen: self.listen, peers, data_dir: self.data_dir, bugs: self.bug })
    }
}
