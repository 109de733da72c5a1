//! etcd through its v3 JSON gateway (etcd 3.4, `/v3/kv/…`): read = linearizable range (or a
//! serializable one, answered by the node alone, when asked for), write = put, cas = a txn
//! comparing the value. Keys are `faultline/<key>`; values are decimal
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
}

impl EtcdClient {
    /// A client of the node whose client URL is `base` (`http://10.200.1.1:2379`). Every
    /// request gives up after `timeout`. With `serializable_reads`, reads are served by the
    /// node from its own state without a quorum (etcd's `serializable` range): fast, possibly
    /// stale.
    pub fn new(base: &str, timeout: Duration, serializable_reads: bool) -> reqwest::Result<EtcdClient> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).pool_max_idle_per_host(4).no_proxy().build()?;
        Ok(EtcdClient { http, base: base.trim_end_matches('/').to_string(), serializable_reads })
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, reqwest::Error> {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await?;
        response.json::<Value>().await
    }
}

fn key_of(op: &Invocation) -> String {
    let key = op.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "r".into());
    B64.encode(format!("faultline/{key}"))
}

fn encode(v: &Value) -> String {
    B64.encode(v.to_string())
}

/// A stored value back to JSON: etcd holds what `encode` wrote.
fn decode(b64: &str) -> Option<Value> {
    let bytes = B64.decode(b64).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The outcome of a request that did not give a usable answer. A read never changes anything,
/// so any failed read is a `fail`; a write whose request was never sent is a `fail`; anything
/// else may have taken effect.
fn failed(op: &Invocation, e: &reqwest::Error) -> Completion {
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
fn server_error(op: &Invocation, body: &Value) -> Option<Completion> {
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
        let mut c = EtcdClient::new("http://127.0.0.1:9", Duration::from_millis(500), false).unwrap();
        let write = Invocation { f: "write".into(), key: None, value: json!(1) };
        assert!(matches!(c.invoke(&write).await, Completion::Fail(_)), "refused before sending");
    }
}
