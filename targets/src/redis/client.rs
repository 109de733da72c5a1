//! The Redis client, as an application writes one: before its first command and after any
//! error it asks its own node's sentinel for the primary (`SENTINEL get-master-addr-by-name`)
//! and sends its commands there. Per workload: `set` is SADD / SMEMBERS, `counter` INCRBY / GET,
//! the registers GET / SET and a compare-and-set script.
//!
//! Outcomes: no connection to a primary means nothing was sent (`fail`); an error reply means
//! Redis refused the command before running it (`fail`: READONLY, NOREPLICAS, …); a timeout or
//! a dropped connection after sending may or may not have been applied (`info`), except for
//! reads, which change nothing (`fail`).

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};
use serde_json::{json, Value};
use workloads::{BoxFuture, Client, Completion, Invocation};

use super::{MASTER, PORT, SENTINEL_PORT};
use crate::db::{Node, NotReady};

/// Compare-and-set of a register, atomically (a Lua script runs alone).
const CAS: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2]) return 1 else return 0 end";

/// A client of the cluster through one node's sentinel.
pub struct RedisClient {
    sentinel: String,
    workload: &'static str,
    timeout: Duration,
    primary: Option<MultiplexedConnection>,
}

async fn connect(url: &str, timeout: Duration) -> Result<MultiplexedConnection, RedisError> {
    let client = redis::Client::open(url)?;
    let config = AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout));
    client.get_multiplexed_async_connection_with_config(&config).await
}

/// The primary `node`'s sentinel names: its address and port, or `None` if it names none.
pub(super) async fn primary_of(node: &Node, timeout: Duration) -> Result<Option<(String, u16)>, RedisError> {
    let mut sentinel = connect(&format!("redis://{}:{SENTINEL_PORT}/", node.ip), timeout).await?;
    redis::cmd("SENTINEL").arg("get-master-addr-by-name").arg(MASTER).query_async::<Option<(String, u16)>>(&mut sentinel).await
}

/// `INFO`-style `field:value` lines as a map.
fn fields(info: &str) -> BTreeMap<&str, &str> {
    info.lines().filter_map(|l| l.trim().split_once(':')).collect()
}

/// Whether `node` serves as its sentinel says it should: the sentinel knows the primary, every
/// replica and every other sentinel; the node is that primary, or a replica linked to it.
pub(super) async fn node_ready(node: &Node, cluster: &[Node], timeout: Duration) -> Result<(), NotReady> {
    let others = cluster.len() - 1;
    let mut sentinel =
        connect(&format!("redis://{}:{SENTINEL_PORT}/", node.ip), timeout).await.map_err(|e| NotReady(format!("sentinel: {e}")))?;
    let master: Vec<String> = redis::cmd("SENTINEL")
        .arg("master")
        .arg(MASTER)
        .query_async(&mut sentinel)
        .await
        .map_err(|e| NotReady(format!("sentinel: {e}")))?;
    let info: BTreeMap<&str, &str> = master.chunks(2).filter(|kv| kv.len() == 2).map(|kv| (kv[0].as_str(), kv[1].as_str())).collect();
    let get = |k: &str| info.get(k).copied().unwrap_or("");
    if get("flags") != "master" {
        return Err(NotReady(format!("the sentinel sees the primary as {}", get("flags"))));
    }
    for (field, what) in [("num-other-sentinels", "sentinels"), ("num-slaves", "replicas")] {
        if get(field) != others.to_string() {
            return Err(NotReady(format!("the sentinel knows {} other {what} of {others}", get(field))));
        }
    }
    let primary_ip = get("ip");
    let mut server = connect(&format!("redis://{}:{PORT}/", node.ip), timeout).await.map_err(|e| NotReady(format!("server: {e}")))?;
    let replication: String =
        redis::cmd("INFO").arg("replication").query_async(&mut server).await.map_err(|e| NotReady(format!("server: {e}")))?;
    let r = fields(&replication);
    let role = r.get("role").copied().unwrap_or("");
    match (primary_ip == node.ip.to_string(), role) {
        (true, "master") => Ok(()),
        (false, "slave") if r.get("master_host").copied() == Some(primary_ip) && r.get("master_link_status").copied() == Some("up") => {
            Ok(())
        }
        (false, "slave") => Err(NotReady(format!("the replica's link to {primary_ip} is not up"))),
        _ => Err(NotReady(format!("its role is {role} but the sentinel says the primary is {primary_ip}"))),
    }
}

impl RedisClient {
    /// A client that finds the primary through `node`'s sentinel, for `workload`.
    pub fn new(node: &Node, workload: &'static str, timeout: Duration) -> RedisClient {
        RedisClient { sentinel: format!("redis://{}:{SENTINEL_PORT}/", node.ip), workload, timeout, primary: None }
    }

    /// The connection to the primary, asking the sentinel first when there is none.
    async fn primary(&mut self) -> Result<&mut MultiplexedConnection, String> {
        if self.primary.is_none() {
            let mut sentinel = connect(&self.sentinel, self.timeout).await.map_err(|e| format!("sentinel: {e}"))?;
            let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(MASTER)
                .query_async(&mut sentinel)
                .await
                .map_err(|e| format!("sentinel: {e}"))?;
            let (ip, port) = addr.ok_or("the sentinel knows no primary")?;
            let connection = connect(&format!("redis://{ip}:{port}/"), self.timeout).await.map_err(|e| format!("primary {ip}: {e}"))?;
            self.primary = Some(connection);
        }
        self.primary.as_mut().ok_or_else(|| "no primary".to_string())
    }

    async fn call(&mut self, op: &Invocation) -> Completion {
        let key = op.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "0".into());
        let reads = op.f == "read";
        let workload = self.workload;
        let connection = match self.primary().await {
            Ok(c) => c,
            // Nothing was sent.
            Err(e) => return Completion::Fail(e),
        };
        let result = match (workload, op.f.as_str()) {
            ("set", "add") => redis::cmd("SADD")
                .arg(format!("faultline:set:{key}"))
                .arg(op.value.to_string())
                .query_async::<i64>(connection)
                .await
                .map(|_| op.value.clone()),
            ("set", "read") => {
                redis::cmd("SMEMBERS").arg(format!("faultline:set:{key}")).query_async::<Vec<String>>(connection).await.map(|members| {
                    let mut items: Vec<Value> =
                        members.iter().map(|m| serde_json::from_str(m).unwrap_or_else(|_| Value::String(m.clone()))).collect();
                    items.sort_by_key(|v| (v.as_i64(), v.to_string()));
                    Value::Array(items)
                })
            }
            ("counter", "add") => redis::cmd("INCRBY")
                .arg(format!("faultline:counter:{key}"))
                .arg(op.value.as_i64().unwrap_or(1))
                .query_async::<i64>(connection)
                .await
                .map(|_| op.value.clone()),
            ("counter", "read") => redis::cmd("GET")
                .arg(format!("faultline:counter:{key}"))
                .query_async::<Option<i64>>(connection)
                .await
                .map(|v| json!(v.unwrap_or(0))),
            (_, "read") => redis::cmd("GET")
                .arg(format!("faultline:register:{key}"))
                .query_async::<Option<String>>(connection)
                .await
                .map(|v| v.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null)),
            (_, "write") => redis::cmd("SET")
                .arg(format!("faultline:register:{key}"))
                .arg(op.value.to_string())
                .query_async::<()>(connection)
                .await
                .map(|_| op.value.clone()),
            (_, "cas") => {
                let (Some(from), Some(to)) = (op.value.get(0), op.value.get(1)) else {
                    return Completion::Fail(format!("cas needs [from, to], got {}", op.value));
                };
                match redis::cmd("EVAL")
                    .arg(CAS)
                    .arg(1)
                    .arg(format!("faultline:register:{key}"))
                    .arg(from.to_string())
                    .arg(to.to_string())
                    .query_async::<i64>(connection)
                    .await
                {
                    Ok(1) => Ok(op.value.clone()),
                    Ok(_) => return Completion::Fail("compare failed".into()),
                    Err(e) => Err(e),
                }
            }
            (_, other) => return Completion::Fail(format!("the redis client has no operation `{other}` for the {workload} workload")),
        };
        match result {
            Ok(value) => Completion::Ok(value),
            Err(e) => {
                // Ask the sentinel again next time: the primary may have moved.
                self.primary = None;
                let refused = e.code().is_some() && op.f != "cas";
                if reads || refused {
                    Completion::Fail(e.to_string())
                } else {
                    Completion::Info(if e.is_timeout() { "timeout".into() } else { e.to_string() })
                }
            }
        }
    }
}

impl Client for RedisClient {
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
        Box::pin(self.call(op))
    }
}
