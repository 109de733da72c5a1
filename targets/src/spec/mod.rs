//! A target described in a TOML file instead of Rust: how to start a node (an argument vector
//! with placeholders), how to know it is ready, an optional one-time cluster setup, who leads,
//! and for each operation an HTTP request and how to read its answer. `examples/etcd.toml` and
//! `examples/bundled.toml` are complete specs; the README's "Testing your own cluster" walks
//! through one.
//!
//! A spec is read and checked by [`load`] before anything starts ([`file`]); placeholders are
//! [`template`]s; operations are performed by [`SpecClient`].

mod client;
pub mod file;
pub mod template;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use workloads::{BoxFuture, Client, Workload};

pub use client::{Exchange, SpecClient};
pub use file::{absolute, load, SpecError, SPEC_COPY};
use template::{Rendered, Template, Var};

use crate::db::{ClientOptions, Db, DbError, Node, NotReady, ProcessSpec, Requirement};

/// A compiled spec: a target.
pub struct Spec {
    name: String,
    /// The file it was read from.
    pub path: PathBuf,
    text: String,
    faultline: String,
    requirements: Vec<Requirement>,
    version: Option<Vec<String>>,
    node: NodeDef,
    ready: Ready,
    cluster: Option<ClusterDef>,
    client: Arc<ClientDef>,
    primaries: Option<Primaries>,
    bugs: Vec<String>,
}

struct NodeDef {
    program: Template,
    args: Vec<Template>,
    env: Vec<(String, Template)>,
    port: u16,
    peer_port: u16,
    peer: Template,
    peer_separator: String,
    stop_signal: Option<String>,
    files: Vec<(Template, Template)>,
    extra: Vec<ExtraProcess>,
    bug_args: Vec<String>,
}

struct ExtraProcess {
    name: String,
    program: Template,
    args: Vec<Template>,
    env: Vec<(String, Template)>,
}

/// An HTTP request with placeholders.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    method: String,
    url: Template,
    headers: Vec<(String, Template)>,
    body: Option<Template>,
}

/// A request and what its answer must be (readiness, the cluster setup).
struct Check {
    request: Request,
    /// Statuses that pass (empty: any 2xx).
    status: Vec<u16>,
    pointer: Option<String>,
    equals: Option<Value>,
    not_equals: Option<Value>,
}

enum Ready {
    Http(Check, Option<Duration>),
    Tcp(u16, Option<Duration>),
    Log(regex_lite::Regex, Option<Duration>),
}

enum ClusterDef {
    Command(Vec<Template>, Duration),
    Http(Check, Duration),
}

enum Primaries {
    SaysItLeads { request: Request, pointer: String, equals: Value },
    NamedByOthers { request: Request, leader: String, id: String },
}

/// How the value an answer holds becomes an operation's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decode {
    /// It is the value (a number, a list, null); a regex capture is parsed as JSON.
    Json,
    /// A string holding JSON text (`"3"`, `"[1,2]"`).
    JsonString,
    /// A string holding base64 of JSON text (etcd's v3 gateway).
    Base64Json,
}

/// The client's operations, shared by every client of the spec.
pub(crate) struct ClientDef {
    key_prefix: String,
    ops: BTreeMap<&'static str, OpDef>,
}

/// One operation: its request and how to read the answer.
pub(crate) struct OpDef {
    request: Request,
    ok: Vec<u16>,
    fail: Vec<u16>,
    not_found: Vec<u16>,
    value: Option<String>,
    each: Option<String>,
    regex: Option<regex_lite::Regex>,
    decode: Decode,
    succeeded: Option<(String, Value)>,
    error: Option<String>,
    read_only: bool,
}

/// Letters, digits, '-' and '_' (names of specs, processes, bugs).
fn valid_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("`{name}`: use 1 to 64 letters, digits, '-' and '_'"));
    }
    Ok(())
}

/// What a placeholder looks like when a template is only being checked.
fn sample(var: Var) -> Rendered {
    match var {
        Var::Value | Var::Old | Var::New => Rendered::Json("1".into()),
        Var::Port | Var::PeerPort | Var::Index | Var::Nodes => Rendered::Text("1".into()),
        Var::Ip => Rendered::Text("10.0.0.1".into()),
        _ => Rendered::Text("x".into()),
    }
}

fn text(s: &str) -> Rendered {
    Rendered::Text(s.to_string())
}

/// The placeholders of one node of a cluster.
pub(crate) struct NodeVars {
    name: String,
    ip: String,
    port: u16,
    peer_port: u16,
    index: usize,
    nodes: usize,
    data_dir: String,
    log_dir: String,
    peers: String,
    initial_cluster: String,
    run_id: String,
    faultline: String,
}

impl NodeVars {
    fn lookup(&self, var: Var) -> Rendered {
        match var {
            Var::Name => text(&self.name),
            Var::Ip => text(&self.ip),
            Var::Port => Rendered::Text(self.port.to_string()),
            Var::PeerPort => Rendered::Text(self.peer_port.to_string()),
            Var::DataDir => text(&self.data_dir),
            Var::LogDir => text(&self.log_dir),
            Var::Peers => text(&self.peers),
            Var::InitialCluster => text(&self.initial_cluster),
            Var::Index => Rendered::Text(self.index.to_string()),
            Var::Nodes => Rendered::Text(self.nodes.to_string()),
            Var::RunId => text(&self.run_id),
            Var::Faultline => text(&self.faultline),
            // Operation placeholders are only allowed in operations, which fill them in.
            Var::Key | Var::Value | Var::Old | Var::New => Rendered::Text(String::new()),
        }
    }

    fn render(&self, t: &Template) -> String {
        t.render(&|v| self.lookup(v))
    }
}

impl Spec {
    /// The `[bugs]` it declares.
    pub fn bugs(&self) -> &[String] {
        &self.bugs
    }

    fn vars(&self, node: &Node, cluster: &[Node], run_id: &str) -> NodeVars {
        let index = cluster.iter().position(|n| n.name == node.name).map_or(1, |i| i + 1);
        let peer_vars = |n: &Node, i: usize| NodeVars {
            name: n.name.clone(),
            ip: n.ip.to_string(),
            port: self.node.port,
            peer_port: self.node.peer_port,
            index: i + 1,
            nodes: cluster.len(),
            data_dir: String::new(),
            log_dir: String::new(),
            peers: String::new(),
            initial_cluster: String::new(),
            run_id: String::new(),
            faultline: String::new(),
        };
        let peers: Vec<String> = cluster.iter().enumerate().map(|(i, n)| peer_vars(n, i).render(&self.node.peer)).collect();
        let initial: Vec<String> = cluster.iter().map(|n| format!("{}=http://{}:{}", n.name, n.ip, self.node.peer_port)).collect();
        NodeVars {
            name: node.name.clone(),
            ip: node.ip.to_string(),
            port: self.node.port,
            peer_port: self.node.peer_port,
            index,
            nodes: cluster.len(),
            data_dir: node.data_dir.display().to_string(),
            log_dir: node.log_dir.display().to_string(),
            peers: peers.join(&self.node.peer_separator),
            initial_cluster: initial.join(","),
            run_id: run_id.to_string(),
            faultline: self.faultline.clone(),
        }
    }

    fn http(timeout: Duration) -> Result<reqwest::Client, NotReady> {
        reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).no_proxy().build().map_err(NotReady::because)
    }

    fn readiness_timeout(&self) -> Option<Duration> {
        match &self.ready {
            Ready::Http(_, t) | Ready::Tcp(_, t) | Ready::Log(_, t) => *t,
        }
    }
}

/// Sends `request` for `vars`; the status and the body.
async fn send(http: &reqwest::Client, request: &Request, vars: &NodeVars) -> Result<(u16, String), String> {
    let url = vars.render(&request.url);
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = http.request(method, &url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), vars.render(value));
    }
    if let Some(body) = &request.body {
        builder = builder.body(vars.render(body));
    }
    let response = builder.send().await.map_err(|e| format!("{} {url}: {e}", request.method))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| format!("{} {url}: reading the answer: {e}", request.method))?;
    Ok((status, body))
}

/// Whether an answer passes `check`; `Err` says what it saw.
fn passes(check: &Check, status: u16, body: &str) -> Result<(), String> {
    let status_ok = if check.status.is_empty() { (200..300).contains(&status) } else { check.status.contains(&status) };
    if !status_ok {
        return Err(format!("status {status}: {}", snippet(body)));
    }
    let Some(pointer) = &check.pointer else { return Ok(()) };
    let json: Value = serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e}): {}", snippet(body)))?;
    let Some(found) = json.pointer(pointer) else { return Err(format!("no `{pointer}` in {}", snippet(body))) };
    if let Some(want) = &check.equals {
        if found != want {
            return Err(format!("`{pointer}` is {found}, not {want}"));
        }
    }
    if let Some(not) = &check.not_equals {
        if found == not {
            return Err(format!("`{pointer}` is {found}"));
        }
    }
    Ok(())
}

/// The start of a body, for messages.
fn snippet(body: &str) -> String {
    let one_line = body.trim().replace('\n', " ");
    match one_line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// The marker the harness writes into a process's log each time it starts it: a `log`
/// readiness check looks only after the last one.
pub const START_MARKER: &str = "=== faultline: starting";

impl Db for Spec {
    fn name(&self) -> &str {
        &self.name
    }

    fn requirements(&self) -> Vec<Requirement> {
        self.requirements.clone()
    }

    fn operations(&self) -> Vec<&'static str> {
        let ops = &self.client.ops;
        let mut out: Vec<&'static str> = ops.keys().copied().filter(|f| *f != "create").collect();
        // `add` as a compare-and-set loop on a register, when the spec has no `add` of its own.
        if !ops.contains_key("add") && ops.contains_key("read") && ops.contains_key("cas") {
            out.push("add");
        }
        out
    }

    fn processes(&self, node: &Node, cluster: &[Node], run_id: &str) -> Vec<ProcessSpec> {
        let vars = self.vars(node, cluster, run_id);
        let envs = |env: &[(String, Template)]| env.iter().map(|(k, v)| (k.clone(), vars.render(v))).collect::<Vec<_>>();
        let mut args: Vec<String> = self.node.args.iter().map(|a| vars.render(a)).collect();
        args.extend(self.node.bug_args.iter().cloned());
        let files = self.node.files.iter().map(|(p, c)| (PathBuf::from(vars.render(p)), vars.render(c))).collect();
        let mut specs = vec![ProcessSpec {
            name: "node".into(),
            program: vars.render(&self.node.program),
            args,
            envs: envs(&self.node.env),
            files,
            stop_signal: self.node.stop_signal.clone(),
        }];
        for e in &self.node.extra {
            specs.push(ProcessSpec {
                name: e.name.clone(),
                program: vars.render(&e.program),
                args: e.args.iter().map(|a| vars.render(a)).collect(),
                envs: envs(&e.env),
                files: Vec::new(),
                stop_signal: self.node.stop_signal.clone(),
            });
        }
        specs
    }

    fn ready<'a>(&'a self, node: &'a Node, cluster: &'a [Node]) -> BoxFuture<'a, Result<(), NotReady>> {
        Box::pin(async move {
            match &self.ready {
                Ready::Http(check, _) => {
                    let vars = self.vars(node, cluster, "");
                    let not_ready = |e: String| NotReady(format!("ready.http: {e}"));
                    let (status, body) = send(&Self::http(Duration::from_millis(500))?, &check.request, &vars).await.map_err(not_ready)?;
                    passes(check, status, &body).map_err(not_ready)
                }
                Ready::Tcp(port, _) => {
                    let address = std::net::SocketAddr::from((node.ip, *port));
                    match tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(address)).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(NotReady(format!("ready.tcp_port: {address}: {e}"))),
                        Err(_) => Err(NotReady(format!("ready.tcp_port: {address}: no answer in 0.5 s"))),
                    }
                }
                Ready::Log(regex, _) => {
                    let log = node.log_dir.join("node.log");
                    let text = tokio::fs::read(&log).await.map_err(|e| NotReady(format!("{}: {e}", log.display())))?;
                    let text = String::from_utf8_lossy(&text);
                    let since_start = text.rfind(START_MARKER).map_or(&text[..], |at| &text[at..]);
                    if regex.is_match(since_start) {
                        Ok(())
                    } else {
                        Err(NotReady(format!("ready.log: its log has no line matching `{}` yet", regex.as_str())))
                    }
                }
            }
        })
    }

    fn start_timeout(&self) -> Option<Duration> {
        self.readiness_timeout()
    }

    fn setup<'a>(&'a self, cluster: &'a [Node]) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async move {
            let Some(setup) = &self.cluster else { return Ok(()) };
            let Some(first) = cluster.first() else { return Ok(()) };
            let vars = self.vars(first, cluster, "");
            match setup {
                ClusterDef::Command(argv, timeout) => {
                    let argv: Vec<String> = argv.iter().map(|a| vars.render(a)).collect();
                    let mut command = tokio::process::Command::new(&argv[0]);
                    command.args(&argv[1..]).stdin(std::process::Stdio::null()).kill_on_drop(true);
                    let output = tokio::time::timeout(*timeout, command.output())
                        .await
                        .map_err(|_| {
                            DbError::Setup(format!("cluster.command: `{}` did not finish in {} s", argv.join(" "), timeout.as_secs_f64()))
                        })?
                        .map_err(|e| DbError::Setup(format!("cluster.command: cannot run `{}`: {e}", argv[0])))?;
                    if output.status.success() {
                        Ok(())
                    } else {
                        Err(DbError::Setup(format!(
                            "cluster.command: `{}` failed ({}): {}",
                            argv.join(" "),
                            output.status,
                            snippet(&String::from_utf8_lossy(&output.stderr))
                        )))
                    }
                }
                ClusterDef::Http(check, timeout) => {
                    let http = Self::http(Duration::from_secs(5)).map_err(|e| DbError::Setup(e.to_string()))?;
                    let started = std::time::Instant::now();
                    loop {
                        let outcome = match send(&http, &check.request, &vars).await {
                            Ok((status, body)) => passes(check, status, &body),
                            Err(e) => Err(e),
                        };
                        match outcome {
                            Ok(()) => return Ok(()),
                            Err(e) if started.elapsed() >= *timeout => return Err(DbError::Setup(format!("cluster.http: {e}"))),
                            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                        }
                    }
                }
            }
        })
    }

    fn primaries<'a>(&'a self, cluster: &'a [Node]) -> BoxFuture<'a, Vec<usize>> {
        Box::pin(async move {
            let Some(primaries) = &self.primaries else { return Vec::new() };
            let Ok(http) = Self::http(Duration::from_millis(500)) else { return Vec::new() };
            let mut answers = Vec::new();
            let request = match primaries {
                Primaries::SaysItLeads { request, .. } | Primaries::NamedByOthers { request, .. } => request,
            };
            for node in cluster {
                let body = send(&http, request, &self.vars(node, cluster, ""))
                    .await
                    .ok()
                    .and_then(|(_, b)| serde_json::from_str::<Value>(&b).ok());
                answers.push(body);
            }
            match primaries {
                Primaries::SaysItLeads { pointer, equals, .. } => {
                    (0..cluster.len()).filter(|&i| answers[i].as_ref().and_then(|b| b.pointer(pointer)) == Some(equals)).collect()
                }
                Primaries::NamedByOthers { leader, id, .. } => {
                    let named: Vec<&Value> = answers.iter().flatten().filter_map(|b| b.pointer(leader)).collect();
                    (0..cluster.len())
                        .filter(|&i| answers[i].as_ref().and_then(|b| b.pointer(id)).is_some_and(|me| named.contains(&me)))
                        .collect()
                }
            }
        })
    }

    fn client(&self, workload: &dyn Workload, node: &Node, options: &ClientOptions) -> Result<Box<dyn Client>, DbError> {
        self.supports(workload)?;
        Ok(Box::new(self.spec_client(workload.name(), node, options)?))
    }

    fn version(&self) -> Option<String> {
        let argv = self.version.as_ref()?;
        let out = std::process::Command::new(&argv[0]).args(&argv[1..]).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
    }

    fn definition(&self) -> Option<&str> {
        Some(&self.text)
    }
}

impl Spec {
    /// A client of `node` for `workload` (by name), as a [`SpecClient`] (which can record what
    /// it sends and receives, for `faultline spec check`).
    pub fn spec_client(&self, workload: &'static str, node: &Node, options: &ClientOptions) -> Result<SpecClient, DbError> {
        let vars = self.vars(node, std::slice::from_ref(node), "");
        SpecClient::new(self.client.clone(), vars, workload, options.timeout)
            .map_err(|e| DbError::Client { node: node.name.clone(), message: e })
    }
}
