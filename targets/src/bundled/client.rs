//! The bundled KV node's client: `POST /kv/read|write|cas` with JSON. The node holds registers
//! only; for the `set` and `counter` workloads an `add` is a compare-and-set loop on one
//! register (read it, compare-and-set it to the new list or sum; on a failed compare — which
//! certainly changed nothing — read again), and a `read` reads the register.

use std::time::Duration;

use serde_json::{json, Map, Value};

use workloads::bank::{Transfer, ACCOUNTS, INITIAL};
use workloads::list_append;
use workloads::{BoxFuture, Client, Completion, Invocation};

/// What a failed compare answers (certainly not applied).
const COMPARE_FAILED: &str = "compare failed";
/// Compare-and-set attempts of one `add` before it is given up (not applied) as contended.
const CAS_ATTEMPTS: usize = 30;

/// The node's table (a register holding an object) of the bank's accounts.
const BANK_TABLE: &str = "bank";

/// The balances a bank table holds: an account never written holds the initial balance.
fn balances(fields: &Map<String, Value>) -> Vec<i64> {
    (0..ACCOUNTS).map(|i| fields.get(&i.to_string()).and_then(Value::as_i64).unwrap_or(INITIAL)).collect()
}

/// A client of one bundled node.
pub struct BundledClient {
    http: reqwest::Client,
    base: String,
    workload: &'static str,
}

impl BundledClient {
    /// A client of the node at `base` (`http://10.200.1.1:8080`) for `workload`, each request
    /// bounded by `timeout`.
    pub fn new(base: &str, workload: &'static str, timeout: Duration) -> reqwest::Result<BundledClient> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).no_proxy().build()?;
        Ok(BundledClient { http, base: base.trim_end_matches('/').to_string(), workload })
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
        match (self.workload, op.f.as_str()) {
            ("bank", "read") => match self.accounts().await {
                Ok(fields) => Completion::Ok(json!(balances(&fields))),
                Err(e) => Completion::Fail(e),
            },
            ("bank", "transfer") => self.transfer(op).await,
            ("list-append", "txn") => self.list_txn(op).await,
            ("set", "add") => {
                let element = op.value.clone();
                self.update(
                    &key,
                    move |current| {
                        Value::Array(current.as_array().cloned().unwrap_or_default().into_iter().chain([element.clone()]).collect())
                    },
                    op.value.clone(),
                )
                .await
            }
            ("set", "read") => match self.request("read", json!({ "key": key })).await {
                Completion::Ok(Value::Null) => Completion::Ok(json!([])),
                other => other,
            },
            ("counter", "add") => {
                let n = op.value.as_i64().unwrap_or(1);
                self.update(&key, move |current| json!(current.as_i64().unwrap_or(0) + n), op.value.clone()).await
            }
            ("counter", "read") => match self.request("read", json!({ "key": key })).await {
                Completion::Ok(v) => Completion::Ok(json!(v.as_i64().unwrap_or(0))),
                other => other,
            },
            (_, "read") => self.request("read", json!({ "key": key })).await,
            (_, "write") => match self.request("write", json!({ "key": key, "value": op.value })).await {
                Completion::Ok(_) => Completion::Ok(op.value.clone()),
                other => other,
            },
            (_, "cas") => match self.request("cas", json!({ "key": key, "from": op.value.get(0), "to": op.value.get(1) })).await {
                Completion::Ok(_) => Completion::Ok(op.value.clone()),
                other => other,
            },
            (workload, other) => Completion::Fail(format!("the bundled client has no operation `{other}` for the {workload} workload")),
        }
    }

    /// Read the register, compare-and-set it to `change(current)`; again on a failed compare.
    async fn update(&self, key: &str, change: impl Fn(&Value) -> Value, result: Value) -> Completion {
        for _ in 0..CAS_ATTEMPTS {
            let current = match self.request("read", json!({ "key": key })).await {
                Completion::Ok(v) => v,
                // Nothing was written yet.
                other => return other,
            };
            let next = change(&current);
            match self.request("cas", json!({ "key": key, "from": current, "to": next })).await {
                Completion::Ok(_) => return Completion::Ok(result),
                Completion::Fail(e) if e == COMPARE_FAILED => continue,
                other => return other,
            }
        }
        Completion::Fail(format!("the compare failed {CAS_ATTEMPTS} times in a row (contention): not applied"))
    }

    /// The bank's accounts, as the node's `bank` table holds them (a field per written
    /// account), in one transaction; or why not.
    async fn accounts(&self) -> Result<Map<String, Value>, String> {
        let read: Vec<String> = (0..ACCOUNTS).map(|i| i.to_string()).collect();
        match self.request("txn", json!({ "key": BANK_TABLE, "read": read })).await {
            Completion::Ok(Value::Object(fields)) => Ok(fields),
            Completion::Ok(Value::Null) => Ok(Map::new()),
            Completion::Ok(other) => Err(format!("the bank table holds {other}")),
            Completion::Fail(e) | Completion::Info(e) => Err(e),
        }
    }

    /// Read both accounts, then one transaction that sets both if neither changed.
    async fn transfer(&self, op: &Invocation) -> Completion {
        let Some(t) = Transfer::parse(&op.value) else { return Completion::Fail(format!("not a transfer: {}", op.value)) };
        let fields = match self.accounts().await {
            Ok(f) => f,
            Err(e) => return Completion::Fail(format!("reading the accounts: {e}")),
        };
        let Some(next) = t.apply(&balances(&fields)) else { return Completion::Fail("insufficient funds".into()) };
        let (from, to) = (t.from.to_string(), t.to.to_string());
        let compare =
            json!({ &from: fields.get(&from).cloned().unwrap_or(Value::Null), &to: fields.get(&to).cloned().unwrap_or(Value::Null) });
        let set = json!({ &from: next[t.from as usize], &to: next[t.to as usize] });
        match self.request("txn", json!({ "key": BANK_TABLE, "compare": compare, "set": set })).await {
            Completion::Ok(_) => Completion::Ok(op.value.clone()),
            other => other,
        }
    }

    /// A list-append transaction: one request on its group's table (`la/<group>`).
    async fn list_txn(&self, op: &Invocation) -> Completion {
        let Some(mops) = list_append::micro_ops(&op.value) else { return Completion::Fail(format!("not a transaction: {}", op.value)) };
        let Some(&(_, first, _)) = mops.first() else { return Completion::Ok(op.value.clone()) };
        let table = format!("la/{}", list_append::group_of(first));
        let ops: Vec<Value> = mops
            .iter()
            .map(|(append, k, v)| if *append { json!(["append", k.to_string(), v]) } else { json!(["r", k.to_string(), null]) })
            .collect();
        match self.request("txn", json!({ "key": table, "ops": ops })).await {
            Completion::Ok(Value::Array(reads)) => {
                let lists: Option<Vec<Vec<i64>>> = mops
                    .iter()
                    .zip(&reads)
                    .map(|((append, _, _), r)| if *append { Some(Vec::new()) } else { r.as_array()?.iter().map(Value::as_i64).collect() })
                    .collect();
                match lists {
                    Some(lists) if reads.len() == mops.len() => Completion::Ok(list_append::completed(&mops, &lists)),
                    // Applied (the round succeeded), but the answer cannot be read back.
                    _ => Completion::Info(format!("unexpected answer {}", Value::Array(reads))),
                }
            }
            Completion::Ok(other) => Completion::Info(format!("unexpected answer {other}")),
            other => other,
        }
    }

    /// One request: `Ok` with the value, `Fail` when it certainly did not happen (a read, a
    /// refused connection, a failed compare, a 503), `Info` when it may have.
    async fn request(&self, path: &str, body: Value) -> Completion {
        let is_read = path == "read";
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
            200 if answer["ok"] == true => Completion::Ok(answer["value"].clone()),
            200 => Completion::Fail(COMPARE_FAILED.into()),
            503 => Completion::Fail(answer["error"].as_str().unwrap_or("unavailable").to_string()),
            _ if is_read => Completion::Fail(answer["error"].as_str().unwrap_or("error").to_string()),
            _ => Completion::Info(answer["error"].as_str().unwrap_or("error").to_string()),
        }
    }
}
