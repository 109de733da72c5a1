//! The node: an HTTP server that is both a CASPaxos acceptor and a proposer for clients.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::storage::{Ballot, Storage};

/// The switchable bugs (see the module docs of [`crate::bundled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    /// Answers reads from the local acceptor, without a quorum round (exposed by partitions).
    StaleRead,
    /// Acknowledges before its state is on disk, written once a second (exposed by kills).
    LazyFsync,
    /// A "majority" one node too small: both sides of a partition make progress.
    SmallQuorum,
    /// Answers reads of a key it wrote from memory for a lease measured on its own clock
    /// (exposed by clock faults that jump its clock back).
    LeaseRead,
    /// Runs a multi-key transaction as one round per key, checking first and writing after,
    /// and calls it failed when a later write fails after earlier ones took effect.
    TornTxn,
}

impl Bug {
    /// The name `--bug` takes.
    pub fn name(self) -> &'static str {
        match self {
            Bug::StaleRead => "stale-read",
            Bug::LazyFsync => "lazy-fsync",
            Bug::SmallQuorum => "small-quorum",
            Bug::LeaseRead => "lease-read",
            Bug::TornTxn => "torn-txn",
        }
    }
}

/// How to run a node.
#[derive(Clone, Debug)]
pub struct NodeArgs {
    /// This node's name; must be among `peers`.
    pub name: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Every node (this one included): name and address.
    pub peers: Vec<(String, SocketAddr)>,
    /// Where the acceptor's state lives.
    pub data_dir: PathBuf,
    /// Bugs switched on.
    pub bugs: Vec<Bug>,
}

/// How long a lease lasts (`lease-read` bug).
const LEASE_MS: u64 = 1500;
/// How long a proposer waits for one peer.
const PEER_TIMEOUT: Duration = Duration::from_millis(300);

struct Node {
    id: u32,
    peers: Vec<SocketAddr>,
    quorum: usize,
    bugs: Vec<Bug>,
    storage: Mutex<Storage>,
    highest_round: AtomicU64,
    http: reqwest::Client,
    /// `lease-read` bug: keys this node holds a lease on, until when (ms on its own clock), and
    /// the value it wrote (what a lease holder serves, trusting that nobody else can write).
    leases: Mutex<HashMap<String, (u64, Value)>>,
}

/// Wall-clock milliseconds: deliberately the (skewable) system clock, for the lease bug.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Runs a node until the process is killed.
pub fn run(args: NodeArgs) -> anyhow::Result<()> {
    let id =
        args.peers.iter().position(|(n, _)| *n == args.name).ok_or_else(|| anyhow::anyhow!("--name {} is not among --peers", args.name))?
            as u32
            + 1;
    let n = args.peers.len();
    let majority = n / 2 + 1;
    let quorum = if args.bugs.contains(&Bug::SmallQuorum) { (majority - 1).max(1) } else { majority };
    let storage = Storage::open(&args.data_dir, args.bugs.contains(&Bug::LazyFsync))?;
    let node = Arc::new(Node {
        id,
        peers: args.peers.iter().map(|(_, a)| *a).collect(),
        quorum,
        bugs: args.bugs.clone(),
        storage: Mutex::new(storage),
        highest_round: AtomicU64::new(0),
        http: reqwest::Client::builder().timeout(PEER_TIMEOUT).no_proxy().pool_max_idle_per_host(8).build()?,
        leases: Mutex::new(HashMap::new()),
    });
    eprintln!("faultline-kv {}: node {id} of {n}, quorum {quorum}, bugs {:?}, listening on {}", args.name, args.bugs, args.listen);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async move {
        if node.bugs.contains(&Bug::LazyFsync) {
            let lazy = node.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if let Err(e) = lazy.storage.lock().unwrap_or_else(|p| p.into_inner()).flush() {
                        eprintln!("flush: {e}");
                    }
                }
            });
        }
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            let node = node.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(node.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
            });
        }
    })
}

fn reply(status: StatusCode, body: Value) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    Ok(r)
}

async fn handle(node: Arc<Node>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return reply(StatusCode::BAD_REQUEST, json!({ "error": e.to_string() })),
    };
    let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let key = msg["key"].as_str().map(str::to_string).or_else(|| msg["key"].as_i64().map(|k| k.to_string()));
    match (path.as_str(), key) {
        ("/status", _) => reply(StatusCode::OK, json!({ "node": node.id, "quorum": node.quorum })),
        ("/paxos/prepare", Some(key)) => {
            let ballot: Ballot = serde_json::from_value(msg["ballot"].clone()).unwrap_or_default();
            reply(StatusCode::OK, node.on_prepare(&key, ballot))
        }
        ("/paxos/accept", Some(key)) => {
            let ballot: Ballot = serde_json::from_value(msg["ballot"].clone()).unwrap_or_default();
            reply(StatusCode::OK, node.on_accept(&key, ballot, msg["value"].clone(), msg["lease"].as_bool() == Some(true)))
        }
        ("/kv/read", Some(key)) => node.client_op(&key, Change::Read).await,
        ("/kv/write", Some(key)) => node.client_op(&key, Change::Write(msg["value"].clone())).await,
        ("/kv/cas", Some(key)) => node.client_op(&key, Change::Cas(msg["from"].clone(), msg["to"].clone())).await,
        ("/kv/txn", Some(table)) if msg.get("ops").is_some() => match parse_list_ops(&msg["ops"]) {
            Some(ops) => node.list_txn(&table, ops).await,
            None => reply(StatusCode::BAD_REQUEST, json!({ "error": "ops: a list of [\"append\", field, value] or [\"r\", field, null]" })),
        },
        ("/kv/txn", Some(table)) => {
            let fields = |name: &str| msg[name].as_object().cloned().unwrap_or_default();
            let read: Vec<String> = msg["read"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_string)).collect();
            node.txn(&table, read, fields("compare"), fields("set")).await
        }
        (_, None) if path.starts_with("/kv/") || path.starts_with("/paxos/") => {
            reply(StatusCode::BAD_REQUEST, json!({ "error": "missing key" }))
        }
        _ => reply(StatusCode::NOT_FOUND, json!({ "error": format!("no route {path}") })),
    }
}

enum Change {
    Read,
    Write(Value),
    Cas(Value, Value),
    /// On a register holding an object: if every `compare` field holds its value (absent:
    /// null), set the `set` fields.
    Txn(Map<String, Value>, Map<String, Value>),
    /// On a register holding an object of lists: the micro-ops in order, each an append to
    /// or a read of one field's list; the answer is the reads' lists.
    Lists(Vec<ListOp>),
}

/// One micro-op of a list transaction.
#[derive(Clone, Debug)]
struct ListOp {
    append: bool,
    field: String,
    value: Value,
}

fn parse_list_ops(ops: &Value) -> Option<Vec<ListOp>> {
    ops.as_array()?
        .iter()
        .map(|m| {
            let field = m.get(1).map(|f| f.as_str().map(str::to_string).unwrap_or_else(|| f.to_string()))?;
            match m.get(0)?.as_str()? {
                "append" => Some(ListOp { append: true, field, value: m.get(2)?.clone() }),
                "r" => Some(ListOp { append: false, field, value: Value::Null }),
                _ => None,
            }
        })
        .collect()
}

/// Applies list micro-ops to an object of lists: the object after them, and each read's list
/// (null for an append).
fn apply_lists(current: &Value, ops: &[ListOp]) -> (Value, Vec<Value>) {
    let mut fields = current.as_object().cloned().unwrap_or_default();
    let mut reads = Vec::with_capacity(ops.len());
    for op in ops {
        let list = fields.entry(op.field.clone()).or_insert_with(|| json!([]));
        if op.append {
            if let Value::Array(items) = list {
                items.push(op.value.clone());
            }
            reads.push(Value::Null);
        } else {
            reads.push(list.clone());
        }
    }
    (Value::Object(fields), reads)
}

enum RoundError {
    /// Certainly not applied (no accept was sent).
    NotApplied(String),
    /// Maybe applied (accepts went out, not enough came back).
    Indeterminate(String),
}

impl Node {
    fn storage(&self) -> std::sync::MutexGuard<'_, Storage> {
        self.storage.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn on_prepare(&self, key: &str, ballot: Ballot) -> Value {
        let mut storage = self.storage();
        let mut slot = storage.get(key);
        self.highest_round.fetch_max(ballot.round, Ordering::Relaxed);
        if let Some((holder, until)) = slot.lease {
            if holder != ballot.node && now_ms() < until {
                return json!({ "ok": false, "promised": slot.promised, "lease": true });
            }
        }
        if ballot <= slot.promised {
            return json!({ "ok": false, "promised": slot.promised });
        }
        slot.promised = ballot;
        if let Err(e) = storage.put(key, slot.clone()) {
            return json!({ "ok": false, "error": e.to_string() });
        }
        json!({ "ok": true, "accepted": slot.accepted, "value": slot.value })
    }

    fn on_accept(&self, key: &str, ballot: Ballot, value: Value, lease: bool) -> Value {
        let mut storage = self.storage();
        let mut slot = storage.get(key);
        if ballot < slot.promised {
            return json!({ "ok": false, "promised": slot.promised });
        }
        slot.promised = ballot;
        slot.accepted = ballot;
        slot.value = value;
        // A lease is granted for a fixed term: writes by the holder during its term do not
        // extend it, so keys change hands between nodes (as leases do in real systems).
        slot.lease = match slot.lease {
            Some((holder, until)) if lease && holder == ballot.node && now_ms() < until => Some((holder, until)),
            _ => lease.then(|| (ballot.node, now_ms() + LEASE_MS)),
        };
        match storage.put(key, slot) {
            Ok(()) => json!({ "ok": true }),
            Err(e) => json!({ "ok": false, "error": e.to_string() }),
        }
    }

    async fn client_op(&self, key: &str, change: Change) -> Result<Response<Full<Bytes>>, Infallible> {
        if matches!(change, Change::Read) {
            if let Some(value) = self.local_read(key) {
                return reply(StatusCode::OK, json!({ "ok": true, "value": value }));
            }
        }
        match self.round(key, &change).await {
            Ok((true, value)) => reply(StatusCode::OK, json!({ "ok": true, "value": value })),
            Ok((false, value)) => reply(StatusCode::OK, json!({ "ok": false, "value": value })),
            Err(RoundError::NotApplied(e)) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": e, "applied": false })),
            Err(RoundError::Indeterminate(e)) => reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": e, "applied": null })),
        }
    }

    /// A transaction over fields of `table`: reads `read`, and if every `compare` field holds
    /// its value sets the `set` fields. Correct: the table is one register, so the transaction
    /// is one round. With `torn-txn`: each field is a register of its own (`table/field`),
    /// compared one round after another and then written one round after another.
    async fn txn(
        &self,
        table: &str,
        read: Vec<String>,
        compare: Map<String, Value>,
        set: Map<String, Value>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let failed = |e: RoundError| match e {
            RoundError::NotApplied(e) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": e, "applied": false })),
            RoundError::Indeterminate(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": e, "applied": null })),
        };
        if !self.bugs.contains(&Bug::TornTxn) {
            let change = if compare.is_empty() && set.is_empty() { Change::Read } else { Change::Txn(compare, set) };
            return match self.round(table, &change).await {
                Ok((ok, value)) => reply(StatusCode::OK, json!({ "ok": ok, "value": value })),
                Err(e) => failed(e),
            };
        }
        let mut seen = Map::new();
        for field in read.iter().chain(compare.keys()) {
            match self.round(&format!("{table}/{field}"), &Change::Read).await {
                Ok((_, value)) => {
                    seen.insert(field.clone(), value);
                }
                Err(e) => return failed(e),
            }
        }
        if compare.iter().any(|(f, v)| seen.get(f).unwrap_or(&Value::Null) != v) {
            return reply(StatusCode::OK, json!({ "ok": false, "value": seen }));
        }
        for (field, value) in &set {
            // The bug: a failure here is reported as the whole transaction's, although the
            // fields written before it keep their new values.
            if let Err(e) = self.round(&format!("{table}/{field}"), &Change::Write(value.clone())).await {
                return failed(match e {
                    RoundError::Indeterminate(e) => RoundError::NotApplied(e),
                    other => other,
                });
            }
            seen.insert(field.clone(), value.clone());
        }
        reply(StatusCode::OK, json!({ "ok": true, "value": seen }))
    }

    /// A list-append transaction over fields of `table`. Correct: the table is one register,
    /// so the transaction is one round. With `torn-txn`: each micro-op is a round of its own on
    /// the field's register (`table/field`), so concurrent transactions interleave, and a
    /// failure after earlier appends took effect is reported as the whole transaction's.
    async fn list_txn(&self, table: &str, ops: Vec<ListOp>) -> Result<Response<Full<Bytes>>, Infallible> {
        let failed = |e: RoundError| match e {
            RoundError::NotApplied(e) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": e, "applied": false })),
            RoundError::Indeterminate(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": e, "applied": null })),
        };
        if !self.bugs.contains(&Bug::TornTxn) {
            return match self.round(table, &Change::Lists(ops)).await {
                Ok((_, reads)) => reply(StatusCode::OK, json!({ "ok": true, "value": reads })),
                Err(e) => failed(e),
            };
        }
        let mut reads = Vec::with_capacity(ops.len());
        for op in ops {
            let field = op.field.clone();
            let one = ListOp { field: "v".into(), ..op };
            match self.round(&format!("{table}/{field}"), &Change::Lists(vec![one])).await {
                Ok((_, mut r)) => reads.push(r.as_array_mut().and_then(|r| r.pop()).unwrap_or(Value::Null)),
                // The bug: earlier appends stay, yet the transaction is reported not applied.
                Err(RoundError::Indeterminate(e) | RoundError::NotApplied(e)) => return failed(RoundError::NotApplied(e)),
            }
        }
        reply(StatusCode::OK, json!({ "ok": true, "value": reads }))
    }

    /// The bugs' shortcuts: a read answered without a quorum round.
    fn local_read(&self, key: &str) -> Option<Value> {
        if self.bugs.contains(&Bug::StaleRead) {
            return Some(self.storage().get(key).value);
        }
        if self.bugs.contains(&Bug::LeaseRead) {
            let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((until, value)) = leases.get(key) {
                if now_ms() < *until {
                    return Some(value.clone());
                }
            }
        }
        None
    }

    /// One CASPaxos round: (compare succeeded, value after the round).
    async fn round(&self, key: &str, change: &Change) -> Result<(bool, Value), RoundError> {
        let lease = self.bugs.contains(&Bug::LeaseRead) && !matches!(change, Change::Read);
        for attempt in 0..6u64 {
            let ballot = Ballot { round: self.highest_round.fetch_add(1, Ordering::Relaxed) + 1, node: self.id };
            let replies = self.broadcast("/paxos/prepare", json!({ "key": key, "ballot": ballot }), self.quorum).await;
            let promises: Vec<&Value> = replies.iter().flatten().filter(|r| r["ok"] == true).collect();
            for r in replies.iter().flatten() {
                if let Some(round) = r["promised"]["round"].as_u64() {
                    self.highest_round.fetch_max(round, Ordering::Relaxed);
                }
            }
            if promises.len() < self.quorum {
                // Nothing was accepted under this ballot: safe to try again with a higher one.
                tokio::time::sleep(Duration::from_millis(5 + (u64::from(self.id) * 7 + attempt * 13) % 30)).await;
                continue;
            }
            let current = promises
                .iter()
                .max_by_key(|p| serde_json::from_value::<Ballot>(p["accepted"].clone()).unwrap_or_default())
                .map(|p| p["value"].clone())
                .unwrap_or(Value::Null);
            let mut answer = None;
            let (applied, next) = match change {
                Change::Read => (true, current.clone()),
                Change::Write(v) => (true, v.clone()),
                Change::Cas(from, to) if *from == current => (true, to.clone()),
                Change::Cas(..) => (false, current.clone()),
                Change::Lists(ops) => {
                    let (next, reads) = apply_lists(&current, ops);
                    answer = Some(Value::Array(reads));
                    (true, next)
                }
                Change::Txn(compare, set) => {
                    let mut fields = current.as_object().cloned().unwrap_or_default();
                    if compare.iter().all(|(f, v)| fields.get(f).unwrap_or(&Value::Null) == v) {
                        fields.extend(set.iter().map(|(f, v)| (f.clone(), v.clone())));
                        (true, Value::Object(fields))
                    } else {
                        (false, current.clone())
                    }
                }
            };
            let lease_start = now_ms();
            let acks =
                self.broadcast("/paxos/accept", json!({ "key": key, "ballot": ballot, "value": next, "lease": lease }), self.quorum).await;
            let accepted = acks.iter().flatten().filter(|r| r["ok"] == true).count();
            if accepted >= self.quorum {
                if lease && applied {
                    let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
                    // Same fixed term as the acceptors; the cached value follows every write.
                    let until = match leases.get(key) {
                        Some((until, _)) if now_ms() < *until => *until,
                        _ => lease_start + LEASE_MS,
                    };
                    leases.insert(key.to_string(), (until, next.clone()));
                }
                return Ok((applied, answer.unwrap_or(next)));
            }
            // Some acceptors may hold the new value: it may yet be chosen. Do not retry (a retry
            // could apply a cas twice, or report it failed after it took effect).
            return Err(RoundError::Indeterminate(format!("accepted by {accepted} of {} needed", self.quorum)));
        }
        Err(RoundError::NotApplied("no quorum of promises (contention or partition)".into()))
    }

    /// Sends `body` to every node; returns once `enough` answered ok or all answered (each within
    /// the peer timeout). `None` for a node that did not answer.
    async fn broadcast(&self, path: &str, body: Value, enough: usize) -> Vec<Option<Value>> {
        let mut set = tokio::task::JoinSet::new();
        for (i, peer) in self.peers.iter().enumerate() {
            let request = self.http.post(format!("http://{peer}{path}")).json(&body);
            set.spawn(async move {
                let answer = match request.send().await {
                    Ok(r) => r.json::<Value>().await.ok(),
                    Err(_) => None,
                };
                (i, answer)
            });
        }
        let mut out = vec![None; self.peers.len()];
        let mut ok = 0;
        while let Some(joined) = set.join_next().await {
            if let Ok((i, answer)) = joined {
                ok += usize::from(answer.as_ref().is_some_and(|a| a["ok"] == true));
                out[i] = answer;
                if ok >= enough {
                    break;
                }
            }
        }
        out
    }
}
