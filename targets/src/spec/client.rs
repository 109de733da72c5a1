//! Performs a spec's operations over HTTP and reads their outcome as the spec says: a status in
//! `ok` (with its `succeeded` condition, if any) is ok; in `fail`, or a request never sent
//! (refused connection, a URL that does not parse), definitely not applied; in `not_found`, a
//! read of nothing; anything else — a timeout, another status, an `error` in the answer — may
//! have been applied (`info`), except for a read, which changes nothing and so simply fails.
//!
//! `add` for the set and counter workloads is the spec's `[client.add]` when it has one;
//! otherwise a compare-and-set loop on one register (read it; compare-and-set it to the list
//! with the element appended, or to the sum; again on a failed compare), with `[client.create]`
//! (write only if absent) for a register that does not exist yet, when the spec has it.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use workloads::{BoxFuture, Client, Completion, Invocation};

use super::template::{Rendered, Var};
use super::{snippet, ClientDef, Decode, NodeVars, OpDef};

/// Compare-and-set attempts of one emulated `add` before it is given up (not applied).
const CAS_ATTEMPTS: usize = 30;

/// One request and its answer, as `faultline spec check` prints them.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The operation (`read`, `cas`, …).
    pub op: String,
    /// `POST http://…`.
    pub request: String,
    /// The body sent.
    pub body: Option<String>,
    /// The answer's status, or why there is none.
    pub status: Result<u16, String>,
    /// The answer's body.
    pub answer: String,
    /// How the spec read it.
    pub outcome: String,
}

/// What one request came to.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// Applied; the value read, if the operation reads one (`None`: nothing there).
    Done(Option<Value>),
    /// The `succeeded` condition did not hold: definitely not applied.
    Refused(String),
    /// Definitely not applied.
    Fail(String),
    /// May have been applied.
    Info(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Done(Some(v)) => write!(f, "ok, read {v}"),
            Outcome::Done(None) => write!(f, "ok"),
            Outcome::Refused(why) => write!(f, "fail, not applied: {why}"),
            Outcome::Fail(why) => write!(f, "fail, not applied: {why}"),
            Outcome::Info(why) => write!(f, "info, may have been applied: {why}"),
        }
    }
}

/// A client of one node of a spec target.
pub struct SpecClient {
    http: reqwest::Client,
    def: Arc<ClientDef>,
    vars: NodeVars,
    workload: &'static str,
    trace: Option<Vec<Exchange>>,
}

impl SpecClient {
    pub(crate) fn new(def: Arc<ClientDef>, vars: NodeVars, workload: &'static str, timeout: Duration) -> Result<SpecClient, String> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).no_proxy().build().map_err(|e| e.to_string())?;
        Ok(SpecClient { http, def, vars, workload, trace: None })
    }

    /// Records every request and answer from now on (see [`SpecClient::take_trace`]).
    pub fn record_exchanges(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The requests and answers recorded since the last call.
    pub fn take_trace(&mut self) -> Vec<Exchange> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// What a read of nothing is for this workload.
    fn empty(&self) -> Value {
        match self.workload {
            "set" => json!([]),
            "counter" => json!(0),
            _ => Value::Null,
        }
    }

    async fn call(&mut self, op: &Invocation) -> Completion {
        let key = op.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "r".into());
        let has_add = self.def.ops.contains_key("add");
        match op.f.as_str() {
            "read" => match self.perform("read", &key, &[]).await {
                Outcome::Done(v) => Completion::Ok(v.filter(|v| !v.is_null()).unwrap_or_else(|| self.empty())),
                Outcome::Refused(e) | Outcome::Fail(e) | Outcome::Info(e) => Completion::Fail(e),
            },
            "write" => Self::applied(self.perform("write", &key, &[(Var::Value, &op.value)]).await, &op.value),
            "cas" => {
                let (Some(from), Some(to)) = (op.value.get(0), op.value.get(1)) else {
                    return Completion::Fail(format!("cas needs [from, to], got {}", op.value));
                };
                Self::applied(self.perform("cas", &key, &[(Var::Old, from), (Var::New, to)]).await, &op.value)
            }
            "add" if has_add => Self::applied(self.perform("add", &key, &[(Var::Value, &op.value)]).await, &op.value),
            "add" => self.add_by_cas(&key, &op.value).await,
            other => Completion::Fail(format!("this spec has no operation `{other}`")),
        }
    }

    fn applied(outcome: Outcome, value: &Value) -> Completion {
        match outcome {
            Outcome::Done(_) => Completion::Ok(value.clone()),
            Outcome::Refused(e) | Outcome::Fail(e) => Completion::Fail(e),
            Outcome::Info(e) => Completion::Info(e),
        }
    }

    /// `add` as read, then compare-and-set (or create, for a register not there yet).
    async fn add_by_cas(&mut self, key: &str, element: &Value) -> Completion {
        for _ in 0..CAS_ATTEMPTS {
            let current = match self.perform("read", key, &[]).await {
                Outcome::Done(v) => v.filter(|v| !v.is_null()),
                // Nothing was written yet.
                Outcome::Refused(e) | Outcome::Fail(e) | Outcome::Info(e) => return Completion::Fail(e),
            };
            let base = current.clone().unwrap_or_else(|| self.empty());
            let next = match self.workload {
                "counter" => json!(base.as_i64().unwrap_or(0) + element.as_i64().unwrap_or(0)),
                _ => Value::Array(base.as_array().cloned().unwrap_or_default().into_iter().chain([element.clone()]).collect()),
            };
            let outcome = match current {
                None if self.def.ops.contains_key("create") => self.perform("create", key, &[(Var::Value, &next)]).await,
                _ => self.perform("cas", key, &[(Var::Old, current.as_ref().unwrap_or(&Value::Null)), (Var::New, &next)]).await,
            };
            match outcome {
                Outcome::Done(_) => return Completion::Ok(element.clone()),
                Outcome::Refused(_) => continue,
                Outcome::Fail(e) => return Completion::Fail(e),
                Outcome::Info(e) => return Completion::Info(e),
            }
        }
        Completion::Fail(format!("the compare failed {CAS_ATTEMPTS} times in a row (contention): not applied"))
    }

    /// One request of operation `f`, its answer read as the spec says.
    async fn perform(&mut self, f: &'static str, key: &str, values: &[(Var, &Value)]) -> Outcome {
        let def = self.def.clone();
        let Some(op) = def.ops.get(f) else { return Outcome::Fail(format!("this spec has no `[client.{f}]`")) };
        let key = format!("{}{key}", def.key_prefix);
        let lookup = |var: Var| match var {
            Var::Key => Rendered::Text(key.clone()),
            Var::Value | Var::Old | Var::New => {
                Rendered::Json(values.iter().find(|(v, _)| *v == var).map_or_else(|| "null".to_string(), |(_, value)| value.to_string()))
            }
            other => self.vars.lookup(other),
        };
        let url = op.request.url.render(&lookup);
        let body = op.request.body.as_ref().map(|b| b.render(&lookup));
        let headers: Vec<(String, String)> = op.request.headers.iter().map(|(n, v)| (n.clone(), v.render(&lookup))).collect();
        let (status, answer, outcome) = self.send(op, f, &url, body.clone(), headers).await;
        if let Some(trace) = &mut self.trace {
            trace.push(Exchange {
                op: f.to_string(),
                request: format!("{} {url}", op.request.method),
                body,
                status,
                answer,
                outcome: outcome.to_string(),
            });
        }
        outcome
    }

    async fn send(
        &self,
        op: &OpDef,
        f: &str,
        url: &str,
        body: Option<String>,
        headers: Vec<(String, String)>,
    ) -> (Result<u16, String>, String, Outcome) {
        // A read changes nothing: whatever happened to it, it did not take effect.
        let maybe = |why: String| if op.read_only { Outcome::Fail(why) } else { Outcome::Info(why) };
        let Ok(method) = reqwest::Method::from_bytes(op.request.method.as_bytes()) else {
            return (Err("bad method".into()), String::new(), Outcome::Fail(format!("bad method {}", op.request.method)));
        };
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) => u,
            Err(e) => return (Err(e.to_string()), String::new(), Outcome::Fail(format!("`{url}` is not a URL: {e} (never sent)"))),
        };
        let mut builder = self.http.request(method, parsed);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                let why = if e.is_timeout() {
                    "timeout".to_string()
                } else if e.is_connect() {
                    "connection refused".to_string()
                } else {
                    e.to_string()
                };
                // Never sent: certainly not applied.
                let outcome = if e.is_connect() && !e.is_timeout() { Outcome::Fail(why.clone()) } else { maybe(why.clone()) };
                return (Err(why), String::new(), outcome);
            }
        };
        let status = response.status().as_u16();
        let answer = match response.text().await {
            Ok(t) => t,
            Err(e) => return (Ok(status), String::new(), maybe(format!("reading the answer: {e}"))),
        };
        let outcome = self.read_answer(op, f, status, &answer, maybe);
        (Ok(status), answer, outcome)
    }

    fn read_answer(&self, op: &OpDef, f: &str, status: u16, answer: &str, maybe: impl Fn(String) -> Outcome) -> Outcome {
        if op.not_found.contains(&status) {
            return Outcome::Done(None);
        }
        if op.fail.contains(&status) {
            return Outcome::Fail(format!("status {status}: {}", snippet(answer)));
        }
        if !op.ok.contains(&status) {
            return maybe(format!("status {status}: {}", snippet(answer)));
        }
        let needs_json = op.error.is_some() || op.succeeded.is_some() || op.value.is_some();
        let json: Option<Value> = if needs_json {
            match serde_json::from_str(answer) {
                Ok(v) => Some(v),
                Err(e) => return maybe(format!("the answer is not JSON ({e}): {}", snippet(answer))),
            }
        } else {
            None
        };
        if let (Some(pointer), Some(json)) = (&op.error, &json) {
            if let Some(error) = json.pointer(pointer).filter(|e| !e.is_null()) {
                return maybe(format!("error: {}", error.as_str().map_or_else(|| error.to_string(), str::to_string)));
            }
        }
        if let (Some((pointer, want)), Some(json)) = (&op.succeeded, &json) {
            let got = json.pointer(pointer);
            if got != Some(want) {
                return Outcome::Refused(format!(
                    "{f} refused (`{pointer}` is {}, not {want})",
                    got.map_or("absent".to_string(), Value::to_string)
                ));
            }
        }
        let value = if let Some(regex) = &op.regex {
            match regex.captures(answer).and_then(|c| c.get(1)) {
                None => None,
                Some(m) => match serde_json::from_str::<Value>(m.as_str()) {
                    Ok(v) => Some(v),
                    Err(_) => Some(Value::String(m.as_str().to_string())),
                },
            }
        } else if let (Some(pointer), Some(json)) = (&op.value, &json) {
            match (json.pointer(pointer), &op.each) {
                (None, _) => None,
                (Some(found), None) => match decode(found, op.decode) {
                    Ok(v) => Some(v),
                    Err(e) => return maybe(format!("`{pointer}`: {e}")),
                },
                (Some(Value::Array(items)), Some(each)) => {
                    let mut values = Vec::new();
                    for item in items {
                        let Some(found) = item.pointer(each) else { continue };
                        match decode(found, op.decode) {
                            Ok(v) => values.push(v),
                            Err(e) => return maybe(format!("`{pointer}` … `{each}`: {e}")),
                        }
                    }
                    Some(Value::Array(values))
                }
                (Some(other), Some(_)) => return maybe(format!("`{pointer}` is not a list: {}", snippet(&other.to_string()))),
            }
        } else {
            None
        };
        Outcome::Done(value)
    }
}

fn decode(found: &Value, how: Decode) -> Result<Value, String> {
    match how {
        Decode::Json => Ok(found.clone()),
        Decode::JsonString => {
            let s = found.as_str().ok_or_else(|| format!("{found} is not a string holding JSON"))?;
            serde_json::from_str(s).map_err(|e| format!("`{s}` is not JSON: {e}"))
        }
        Decode::Base64Json => {
            let s = found.as_str().ok_or_else(|| format!("{found} is not a base64 string"))?;
            let bytes = B64.decode(s).map_err(|e| format!("`{s}` is not base64: {e}"))?;
            serde_json::from_slice(&bytes).map_err(|e| format!("`{}` is not JSON: {e}", String::from_utf8_lossy(&bytes)))
        }
    }
}

impl Client for SpecClient {
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
        Box::pin(self.call(op))
    }
}
