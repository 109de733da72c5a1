//! etcd through its v3 JSON gateway (etcd 3.4, `/v3/kv/…`): read = linearizable range (or a
//! serializable one, answered by the node alone, when asked for), write = put, cas = a txn
//! comparing the value. For the `set` workload each element is a key of its own (add = put,
//! read = a range over the set's prefix); for `counter`, add is a txn that compares the key's
//! mod revision with the one just read (again on a failed compare, which changed nothing). Keys are `faultline/<key>`; values are decimal
//! integers. int64 fields come back as strings and false/zero fields are omitted.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use workloads::{BoxFuture, Client, Completion, Invocation};

/// A client of one etcd node.
pub struct EtcdClient {
    http: reqwest::Client,
    base: String,
    serializable_reads: bool,
    workload: &'static str,
}

/// Compare-and-swap attempts of one counter `add` before it is given up (not applied).
const CAS_ATTEMPTS: usize = 30;

impl EtcdClient {
    /// A client of the node whose client URL is `base` (`http://10.200.1.1:2379`). Every
    /// request gives up after `timeout`. With `serializable_reads`, reads are served by the
    /// node from its own state without a quorum (etcd's `serializable` range): fast, possibly
    /// stale.
    pub fn new(base: &str, workload: &'static str, timeout: Duration, serializable_reads: bool) -> reqwest::Result<EtcdClient> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).pool_max_idle_per_host(4).no_proxy().build()?;
        Ok(EtcdClient { http, base: base.trim_end_matches('/').to_string(), serializable_reads, workload })
    }

    pub(super) fn serializable_reads(&self) -> bool {
        self.serializable_reads
    }

    pub(super) async fn post(&self, path: &str, body: Value) -> Result<Value, reqwest::Error> {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await?;
        response.json::<Value>().await
    }
}

fn key_of(op: &Invocation) -> String {
    let key = op.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "r".into());
    B64.encode(format!("faultline/{key}"))
}

pub(super) fn encode(v: &Value) -> String {
    B64.encode(v.to_string())
}

/// A stored value back to JSON: etcd holds what `encode` wrote.
pub(super) fn decode(b64: &str) -> Option<Value> {
    let bytes = B64.decode(b64).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The outcome of a request that did not give a usable answer. A read never changes anything,
/// so any failed read is a `fail`; a write whose request was never sent is a `fail`; anything
/// else may have taken effect.
pub(super) fn failed(op: &Invocation, e: &reqwest::Error) -> Completion {
    let what = if e.is_timeout() {
        "timeout".to_string()
    } else if e.is_connect() {
        "connection refused".to_string()
    } else {
        e.to_string()
    };
    if op.f == "read" || e.is_connect() && !e.is_timeout() {
        Completion::Fail(what)
    } else {
        Completion::Info(what)
    }
}

/// An error answer from etcd (`{"error": "...", "code": 14}`).
pub(super) fn server_error(op: &Invocation, body: &Value) -> Option<Completion> {
    let error = body.get("error").or_else(|| body.get("message"))?.as_str().unwrap_or("error").to_string();
    Some(if op.f == "read" { Completion::Fail(error) } else { Completion::Info(error) })
}

impl Client for EtcdClient {
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
        Box::pin(self.call(op))
    }
}

impl EtcdClient {
    async fn call(&self, op: &Invocation) -> Completion {
        match (self.workload, op.f.as_str()) {
            ("bank", _) => return self.bank(op).await,
            ("list-append", _) => return self.list_txn(op).await,
            ("set", "add") => return self.set_add(op).await,
            ("set", "read") => return self.set_read(op).await,
            ("counter", "add") => return self.counter_add(op).await,
            ("counter", "read") => {
                return match self.register(op).await {
                    Completion::Ok(v) => Completion::Ok(json!(v.as_i64().unwrap_or(0))),
                    other => other,
                }
            }
            _ => {}
        }
        self.register(op).await
    }

    /// The key prefix of a set's elements.
    fn set_prefix(op: &Invocation) -> String {
        let key = op.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "s".into());
        format!("faultline/set/{key}/")
    }

    async fn set_add(&self, op: &Invocation) -> Completion {
        let key = B64.encode(format!("{}{}", Self::set_prefix(op), op.value));
        match self.post("/v3/kv/put", json!({ "key": key, "value": encode(&op.value) })).await {
            Ok(body) => server_error(op, &body).unwrap_or(Completion::Ok(op.value.clone())),
            Err(e) => failed(op, &e),
        }
    }

    async fn set_read(&self, op: &Invocation) -> Completion {
        let prefix = Self::set_prefix(op);
        // The end of a prefix range: the prefix with its last byte incremented ('/' + 1 = '0').
        let mut end = prefix.clone().into_bytes();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let body = json!({ "key": B64.encode(&prefix), "range_end": B64.encode(&end), "serializable": self.serializable_reads });
        match self.post("/v3/kv/range", body).await {
            Ok(body) => server_error(op, &body).unwrap_or_else(|| {
                let mut items: Vec<Value> =
                    body["kvs"].as_array().into_iter().flatten().filter_map(|kv| kv["value"].as_str().and_then(decode)).collect();
                items.sort_by_key(|v| (v.as_i64(), v.to_string()));
                Completion::Ok(Value::Array(items))
            }),
            Err(e) => failed(op, &e),
        }
    }

    /// Read the counter and its mod revision, then a txn that adds only if the key is still at
    /// that revision; again on a failed compare.
    async fn counter_add(&self, op: &Invocation) -> Completion {
        let key = key_of(op);
        let n = op.value.as_i64().unwrap_or(1);
        let read = Invocation { f: "read".into(), key: op.key.clone(), value: Value::Null };
        for _ in 0..CAS_ATTEMPTS {
            let (value, revision) = match self.post("/v3/kv/range", json!({ "key": key })).await {
                Ok(body) => match server_error(&read, &body) {
                    Some(failure) => return failure,
                    None => {
                        let kv = &body["kvs"][0];
                        let value = kv["value"].as_str().and_then(decode).and_then(|v| v.as_i64()).unwrap_or(0);
                        (value, kv["mod_revision"].as_str().unwrap_or("0").to_string())
                    }
                },
                // Nothing was written yet.
                Err(e) => return failed(&read, &e),
            };
            let compare = if revision == "0" {
                json!({ "key": key, "target": "CREATE", "result": "EQUAL", "create_revision": "0" })
            } else {
                json!({ "key": key, "target": "MOD", "result": "EQUAL", "mod_revision": revision })
            };
            let txn = json!({ "compare": [compare], "success": [{ "requestPut": { "key": key, "value": encode(&json!(value + n)) } }] });
            match self.post("/v3/kv/txn", txn).await {
                Ok(body) => match server_error(op, &body) {
                    Some(other) => return other,
                    None if body["succeeded"].as_bool() == Some(true) => return Completion::Ok(op.value.clone()),
                    None => continue,
                },
                Err(e) => return failed(op, &e),
            }
        }
        Completion::Fail(format!("the compare failed {CAS_ATTEMPTS} times in a row (contention): not applied"))
    }

    async fn register(&self, op: &Invocation) -> Completion {
        let key = key_of(op);
        match op.f.as_str() {
            "read" => match self.post("/v3/kv/range", json!({ "key": key, "serializable": self.serializable_reads })).await {
                Ok(body) => server_error(op, &body).unwrap_or_else(|| {
                    let value = body["kvs"].get(0).and_then(|kv| kv["value"].as_str()).and_then(decode);
                    Completion::Ok(value.unwrap_or(Value::Null))
                }),
                Err(e) => failed(op, &e),
            },
            "write" => match self.post("/v3/kv/put", json!({ "key": key, "value": encode(&op.value) })).await {
                Ok(body) => server_error(op, &body).unwrap_or(Completion::Ok(op.value.clone())),
                Err(e) => failed(op, &e),
            },
            "cas" => {
                let (Some(from), Some(to)) = (op.value.get(0), op.value.get(1)) else {
                    return Completion::Fail(format!("cas needs [from, to], got {}", op.value));
                };
                let txn = json!({
                    "compare": [{ "key": key, "target": "VALUE", "result": "EQUAL", "value": encode(from) }],
                    "success": [{ "requestPut": { "key": key, "value": encode(to) } }],
                });
                match self.post("/v3/kv/txn", txn).await {
                    Ok(body) => server_error(op, &body).unwrap_or_else(|| {
                        if body["succeeded"].as_bool() == Some(true) {
                            Completion::Ok(op.value.clone())
                        } else {
                            Completion::Fail("compare failed".into())
                        }
                    }),
                    Err(e) => failed(op, &e),
                }
            }
            other => Completion::Fail(format!("the etcd client has no operation `{other}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_encoding() {
        for v in [json!(3), json!("x"), json!(null)] {
            assert_eq!(decode(&encode(&v)), Some(v));
        }
        let op = Invocation { f: "read".into(), key: Some(history::Key::Int(4)), value: Value::Null };
        assert_eq!(B64.decode(key_of(&op)).unwrap(), b"faultline/4");
    }

    #[test]
    fn error_bodies_are_indeterminate_for_writes_and_failures_for_reads() {
        let body = json!({"error": "etcdserver: request timed out", "code": 14});
        let write = Invocation { f: "write".into(), key: None, value: json!(1) };
        let read = Invocation { f: "read".into(), key: None, value: Value::Null };
        assert!(matches!(server_error(&write, &body), Some(Completion::Info(_))));
        assert!(matches!(server_error(&read, &body), Some(Completion::Fail(_))));
        assert_eq!(server_error(&write, &json!({"header": {}})), None);
    }

    #[tokio::test]
    async fn a_node_that_is_not_there_is_a_definite_failure() {
        // Port 9 on loopback: nothing listens, the connection is refused, nothing was sent.
        let mut c = EtcdClient::new("http://127.0.0.1:9", "register", Duration::from_millis(500), false).unwrap();
        let write = Invocation { f: "write".into(), key: None, value: json!(1) };
        assert!(matches!(c.invoke(&write).await, Completion::Fail(_)), "refused before sending");
    }
}
