//! The bundled KV node's client (`targets::kv`): `POST /kv/read|write|cas` with JSON.

use std::time::Duration;

use serde_json::{json, Value};

use workloads::{BoxFuture, Client, Completion, Invocation};

/// A client of one bundled node.
pub struct BundledClient {
    http: reqwest::Client,
    base: String,
}

impl BundledClient {
    /// A client of the node at `base` (`http://10.200.1.1:8080`), each request bounded by `timeout`.
    pub fn new(base: &str, timeout: Duration) -> reqwest::Result<BundledClient> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).no_proxy().build()?;
        Ok(BundledClient { http, base: base.trim_end_matches('/').to_string() })
    }
}

impl Client for BundledClient {
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
        Box::pin(self.call(op))
    }
}

impl BundledClient {
    async fn call(&self, op: &Invocation) -> Completion {
        let key = op.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "r".into());
        let (path, body) = match op.f.as_str() {
            "read" => ("read", json!({ "key": key })),
            "write" => ("write", json!({ "key": key, "value": op.value })),
            "cas" => ("cas", json!({ "key": key, "from": op.value.get(0), "to": op.value.get(1) })),
            other => return Completion::Fail(format!("the bundled client has no operation `{other}`")),
        };
        let is_read = op.f == "read";
        let response = match self.http.post(format!("{}/kv/{path}", self.base)).json(&body).send().await {
            Ok(r) => r,
            // Never sent, or a read (which changes nothing): certainly not applied.
            Err(e) if is_read || (e.is_connect() && !e.is_timeout()) => return Completion::Fail(e.to_string()),
            Err(e) => return Completion::Info(if e.is_timeout() { "timeout".into() } else { e.to_string() }),
        };
        let status = response.status();
        let answer: Value = match response.json().await {
            Ok(v) => v,
            Err(e) if is_read => return Completion::Fail(e.to_string()),
            Err(e) => return Completion::Info(e.to_string()),
        };
        match status.as_u16() {
            200 if answer["ok"] == true => Completion::Ok(if is_read { answer["value"].clone() } else { op.value.clone() }),
            200 => Completion::Fail("compare failed".into()),
            503 => Completion::Fail(answer["error"].as_str().unwrap_or("unavailable").to_string()),
            _ if is_read => Completion::Fail(answer["error"].as_str().unwrap_or("error").to_string()),
            _ => Completion::Info(answer["error"].as_str().unwrap_or("error").to_string()),
        }
    }
}
