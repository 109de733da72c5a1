//! The systems under test, one folder each, each holding its [`Db`] and its client:
//! [`bundled`] (faultline's own replicated KV node, with switchable bugs) and [`etcd`].
//!
//! Adding a target: a folder here with a [`Db`] implementation and its client, and a variant
//! (its doc comment is its `--help` text) and a match arm in [`TargetKind`] below.

#![deny(missing_docs)]

pub mod bundled;
mod db;
pub mod etcd;
pub mod redis;
pub mod spec;

use serde::{Deserialize, Serialize};

pub use db::{version_line, ClientOptions, Db, DbError, Node, NotReady, ProcessSpec, Requirement};

/// The targets, by the name `--target` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// faultline's own replicated KV node (CASPaxos), built in: nothing to install. Bugs can be
    /// switched on with --bug.
    Bundled,
    /// etcd 3.4 from Debian's etcd-server (installed when missing).
    Etcd,
    /// etcd with serializable reads: each node answers reads alone, without a quorum (etcd's
    /// documented trade-off; stale under partitions).
    EtcdSerializable,
    /// Redis 7 with Sentinel from Debian's redis-server and redis-sentinel (installed when
    /// missing): a primary, replicas, automatic failover.
    Redis,
}

/// What a target may be configured with.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOptions {
    /// Bugs to switch on in the bundled node.
    pub bugs: Vec<bundled::Bug>,
    /// The faultline binary that runs the bundled node (`None`: the running one).
    pub bundled_binary: Option<String>,
    /// The etcd binary.
    pub etcd_binary: String,
    /// etcd: seconds a lock's lease lives without a keep-alive.
    pub lock_ttl: u64,
    /// Redis: sentinel's down-after-milliseconds.
    pub redis_down_after_ms: u64,
    /// Redis: sentinel's failover-timeout, in milliseconds.
    pub redis_failover_timeout_ms: u64,
    /// Redis: the primary's min-replicas-to-write.
    pub redis_min_replicas_to_write: u32,
    /// Redis: the primary's min-replicas-max-lag, in seconds.
    pub redis_min_replicas_max_lag: u32,
}

impl TargetKind {
    /// The target, configured. Makes nothing yet: no process, no file.
    pub fn build(self, options: &TargetOptions) -> Box<dyn Db> {
        match self {
            TargetKind::Bundled => {
                let mut db = bundled::Bundled::new(options.bugs.clone());
                if let Some(binary) = &options.bundled_binary {
                    db.program = binary.clone();
                }
                Box::new(db)
            }
            TargetKind::Etcd => {
                Box::new(etcd::Etcd { binary: options.etcd_binary.clone(), serializable_reads: false, lock_ttl: options.lock_ttl })
            }
            TargetKind::EtcdSerializable => {
                Box::new(etcd::Etcd { binary: options.etcd_binary.clone(), serializable_reads: true, lock_ttl: options.lock_ttl })
            }
            TargetKind::Redis => Box::new(redis::Redis::new(
                options.redis_down_after_ms,
                options.redis_failover_timeout_ms,
                options.redis_min_replicas_to_write,
                options.redis_min_replicas_max_lag,
            )),
        }
    }

    /// The name `--target` takes.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Bundled => "bundled",
            TargetKind::Etcd => "etcd",
            TargetKind::EtcdSerializable => "etcd-serializable",
            TargetKind::Redis => "redis",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn names_agree_between_clap_serde_and_the_registry() {
        let options = TargetOptions {
            bugs: Vec::new(),
            bundled_binary: None,
            etcd_binary: "etcd".into(),
            lock_ttl: 2,
            redis_down_after_ms: 2000,
            redis_failover_timeout_ms: 10_000,
            redis_min_replicas_to_write: 0,
            redis_min_replicas_max_lag: 10,
        };
        for kind in TargetKind::value_variants() {
            let clap_name = kind.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(clap_name.as_deref(), Some(kind.name()));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
            assert_eq!(kind.build(&options).name(), kind.name());
        }
    }
}
