//! etcd's lock service (`/v3/lock/lock`, the v3lock API of etcd 3.4), as Jepsen tested it in
//! 2020: `acquire` grants a lease (TTL 2 s by default, etcd 3.4's minimum), keeps it alive while
//! the lock is wanted or held, and locks with it; `release` unlocks and revokes the lease.
//!
//! Outcomes: a lease that could not be granted, or a refused connection, means the lock was not
//! taken (`fail`); a lock request that timed out or answered an error may have been granted
//! (`info`) — its lease is then revoked, so that a lock granted late does not stay held. A
//! release by a client that holds nothing is a `fail`.
//!
//! The keep-alive runs as its own task and is stopped by the release (or its failure), not by
//! dropping the client: a client whose worker ended while holding the lock keeps it until the
//! run is over, as a real holder would, instead of letting it expire under a waiting client.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use workloads::{BoxFuture, Client, Completion, Invocation};

/// The lock's name in etcd.
const LOCK_NAME: &str = "faultline-lock";

/// A lock client of one etcd node.
pub struct EtcdLock {
    http: reqwest::Client,
    base: String,
    ttl: u64,
    held: Option<Held>,
}

/// A lock this client holds.
struct Held {
    key: String,
    lease: String,
    keepalive: JoinHandle<()>,
}

impl EtcdLock {
    /// A lock client of the node at `base`; each request gives up after `timeout`; leases live
    /// `ttl` seconds without a keep-alive.
    pub fn new(base: &str, timeout: Duration, ttl: u64) -> reqwest::Result<EtcdLock> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).no_proxy().build()?;
        Ok(EtcdLock { http, base: base.trim_end_matches('/').to_string(), ttl, held: None })
    }

    async fn post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Result<Value, String> {
        let response = http.post(format!("{base}{path}")).json(&body).send().await.map_err(|e| describe(&e))?;
        let body: Value = response.json().await.map_err(|e| describe(&e))?;
        match body.get("error").or_else(|| body.get("message")) {
            Some(error) => Err(error.as_str().unwrap_or("error").to_string()),
            None => Ok(body),
        }
    }

    /// Revokes `lease` and stops its keep-alive, in the background (best effort: a lease not
    /// revoked expires after its TTL).
    fn let_go(&self, lease: String, keepalive: JoinHandle<()>) {
        keepalive.abort();
        let (http, base) = (self.http.clone(), self.base.clone());
        tokio::spawn(async move {
            let _ = Self::post(&http, &base, "/v3/lease/revoke", json!({ "ID": lease })).await;
        });
    }

    async fn acquire(&mut self) -> Completion {
        // Still holding from an operation that was given up (timed out mid-way): let it go
        // first, or the lock would stay held for the rest of the run.
        if let Some(old) = self.held.take() {
            self.let_go(old.lease, old.keepalive);
        }
        let grant = match Self::post(&self.http, &self.base, "/v3/lease/grant", json!({ "TTL": self.ttl })).await {
            Ok(body) => body,
            // No lease, no lock.
            Err(e) => return Completion::Fail(format!("lease grant: {e}")),
        };
        let Some(lease) = grant["ID"].as_str().map(str::to_string) else {
            return Completion::Fail(format!("lease grant answered without an ID: {grant}"));
        };
        let keepalive = self.keep_alive(lease.clone());
        let lock = json!({ "name": B64.encode(LOCK_NAME), "lease": lease });
        match Self::post(&self.http, &self.base, "/v3/lock/lock", lock).await {
            Ok(body) => match body["key"].as_str() {
                Some(key) => {
                    let acquired = json!({ "lease": lease, "key": String::from_utf8_lossy(&B64.decode(key).unwrap_or_default()) });
                    self.held = Some(Held { key: key.to_string(), lease, keepalive });
                    Completion::Ok(acquired)
                }
                None => {
                    self.let_go(lease, keepalive);
                    Completion::Info(format!("lock answered without a key: {body}"))
                }
            },
            Err(e) if e == "connection refused" => {
                self.let_go(lease, keepalive);
                Completion::Fail(e)
            }
            Err(e) => {
                self.let_go(lease, keepalive);
                Completion::Info(format!("lock: {e}"))
            }
        }
    }

    async fn release(&mut self) -> Completion {
        let Some(held) = self.held.take() else { return Completion::Fail("not held by this client".into()) };
        let outcome = match Self::post(&self.http, &self.base, "/v3/lock/unlock", json!({ "key": held.key })).await {
            Ok(_) => Completion::Ok(Value::Null),
            Err(e) => Completion::Info(format!("unlock: {e}")),
        };
        // Either way the lease goes: whatever the unlock did, the lock is freed with it.
        self.let_go(held.lease, held.keepalive);
        outcome
    }

    /// Refreshes `lease` three times per TTL until stopped.
    fn keep_alive(&self, lease: String) -> JoinHandle<()> {
        let (http, base) = (self.http.clone(), self.base.clone());
        let every = Duration::from_millis(self.ttl * 1000 / 3);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let _ = Self::post(&http, &base, "/v3/lease/keepalive", json!({ "ID": lease })).await;
            }
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection refused".into()
    } else {
        e.to_string()
    }
}

impl Client for EtcdLock {
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
        Box::pin(async move {
            match op.f.as_str() {
                "acquire" => self.acquire().await,
                "release" => self.release().await,
                other => Completion::Fail(format!("the etcd lock client has no operation `{other}`")),
            }
        })
    }
}
