//! The spec file as written (serde types, unknown keys refused) and its compilation into a
//! [`Spec`]: every template parsed, every pointer, regex, method, header, signal and number
//! checked, before anything starts. An error names the file, the TOML path and what is
//! expected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::template::{Template, Var, NODE_VARS, PEER_VARS, REQUEST_VARS};
use super::{Check, ClientDef, ClusterDef, Decode, ExtraProcess, NodeDef, OpDef, Primaries, Ready, Request, Spec};
use crate::db::Requirement;

/// A spec that cannot be used: where, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {at}{message}")]
pub struct SpecError {
    /// The spec file.
    pub file: String,
    /// `client.cas.body: `, `line 3, column 7: `, or nothing.
    pub at: String,
    /// What is wrong, and what is expected.
    pub message: String,
}

impl SpecError {
    fn new(file: &Path, at: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            file: file.display().to_string(),
            at: if at.is_empty() { String::new() } else { format!("{at}: ") },
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    name: String,
    version: Option<Vec<String>>,
    #[serde(default)]
    requires: Vec<RequireFile>,
    node: NodeFile,
    ready: ReadyFile,
    cluster: Option<ClusterFile>,
    client: ClientFile,
    primaries: Option<PrimariesFile>,
    #[serde(default)]
    bugs: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequireFile {
    program: String,
    package: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    program: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    port: Option<u16>,
    peer_port: Option<u16>,
    peer: Option<String>,
    peer_separator: Option<String>,
    stop_signal: Option<String>,
    #[serde(default)]
    files: Vec<FileFile>,
    #[serde(default)]
    extra: Vec<ExtraFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFile {
    path: String,
    contents: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraFile {
    name: String,
    program: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadyFile {
    timeout_seconds: Option<f64>,
    http: Option<CheckFile>,
    tcp_port: Option<u16>,
    log: Option<String>,
}

/// A request and what its answer must be.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    status: Option<Vec<u16>>,
    pointer: Option<String>,
    equals: Option<Value>,
    not_equals: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    command: Option<Vec<String>>,
    http: Option<CheckFile>,
    timeout_seconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrimariesFile {
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    pointer: Option<String>,
    equals: Option<Value>,
    leader: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    #[serde(default)]
    key_prefix: String,
    read: Option<OpFile>,
    write: Option<OpFile>,
    cas: Option<OpFile>,
    add: Option<OpFile>,
    create: Option<OpFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpFile {
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    ok: Option<Vec<u16>>,
    #[serde(default)]
    fail: Vec<u16>,
    #[serde(default)]
    not_found: Vec<u16>,
    value: Option<String>,
    regex: Option<String>,
    each: Option<String>,
    decode: Option<Decode>,
    succeeded: Option<ConditionFile>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionFile {
    pointer: String,
    equals: Value,
}

/// Signals a node may be stopped with at the end of a test.
const STOP_SIGNALS: [&str; 6] = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"];
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

/// Reads and compiles `path`. `faultline` is the binary `{faultline}` stands for; `bugs` the
/// `[bugs]` entries to switch on (each must exist).
pub fn load(path: &Path, faultline: &str, bugs: &[String]) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpecError::new(path, "", format!("cannot read it: {e}")))?;
    compile(path, &text, faultline, bugs)
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> SpecError {
    let at = e.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = span.start.min(text.len()) - before.rfind('\n').map_or(0, |nl| nl + 1) + 1;
        format!("line {line}, column {column}")
    });
    SpecError::new(path, &at.unwrap_or_default(), e.message().trim().to_string())
}

/// Compiles a spec's text (read from `path`).
pub fn compile(path: &Path, text: &str, faultline: &str, bugs: &[String]) -> Result<Spec, SpecError> {
    let value: toml::Value = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let file: SpecFile = serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let at = if at == "." { String::new() } else { at };
        // toml adds "\nin `table`", which the path already says.
        let message = e.into_inner().to_string();
        SpecError::new(path, &at, message.split("\nin `").next().unwrap_or_default().trim().to_string())
    })?;
    let c = Compiler { path };
    c.spec(file, text, faultline, bugs)
}

struct Compiler<'a> {
    path: &'a Path,
}

impl Compiler<'_> {
    fn err(&self, at: &str, message: impl Into<String>) -> SpecError {
        SpecError::new(self.path, at, message)
    }

    fn template(&self, at: &str, text: &str, allowed: &[Var]) -> Result<Template, SpecError> {
        Template::parse(text, allowed).map_err(|e| self.err(at, e))
    }

    fn seconds(&self, at: &str, value: Option<f64>) -> Result<Option<Duration>, SpecError> {
        match value {
            None => Ok(None),
            Some(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Some(Duration::from_secs_f64(s))),
            Some(s) => Err(self.err(at, format!("must be more than 0 and at most 3600 seconds, not {s}"))),
        }
    }

    fn pointer(&self, at: &str, pointer: Option<String>) -> Result<Option<String>, SpecError> {
        let Some(p) = pointer else { return Ok(None) };
        if !p.is_empty() && !p.starts_with('/') {
            return Err(self.err(
                at,
                format!("`{p}` is not a JSON pointer (RFC 6901): it is empty (the whole body) or starts with `/`, e.g. `/kvs/0/value`"),
            ));
        }
        let mut chars = p.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.peek(), Some('0') | Some('1')) {
                return Err(self.err(at, format!("`{p}`: in a JSON pointer `~` is written `~0` and `/` inside a name `~1`")));
            }
        }
        Ok(Some(p))
    }

    fn statuses(&self, at: &str, codes: &[u16]) -> Result<(), SpecError> {
        match codes.iter().find(|c| !(100..=599).contains(*c)) {
            Some(c) => Err(self.err(at, format!("{c} is not an HTTP status (100 to 599)"))),
            None => Ok(()),
        }
    }

    fn request(
        &self,
        at: &str,
        method: Option<String>,
        url: &str,
        headers: BTreeMap<String, String>,
        body: Option<String>,
        allowed: &[Var],
    ) -> Result<Request, SpecError> {
        let method = match method {
            None if body.is_some() => "POST".to_string(),
            None => "GET".to_string(),
            Some(m) => {
                let upper = m.to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    return Err(self.err(&format!("{at}.method"), format!("`{m}`: use one of {}", METHODS.join(", "))));
                }
                upper
            }
        };
        let url_template = self.template(&format!("{at}.url"), url, allowed)?;
        // A sample rendering must be a URL: catches a missing scheme or a stray character now.
        let sample = url_template.render(&|v| super::sample(v));
        match reqwest::Url::parse(&sample) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            Ok(u) => return Err(self.err(&format!("{at}.url"), format!("`{url}`: use http:// or https://, not {}:", u.scheme()))),
            Err(e) => return Err(self.err(&format!("{at}.url"), format!("`{url}` is not a URL ({e}; e.g. `http://{{ip}}:{{port}}/path`)"))),
        }
        let mut compiled = Vec::new();
        for (name, value) in headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(self.err(&format!("{at}.headers"), format!("`{name}` is not a header name")));
            }
            compiled.push((name.clone(), self.template(&format!("{at}.headers.{name}"), &value, allowed)?));
        }
        let body = body.map(|b| self.template(&format!("{at}.body"), &b, allowed)).transpose()?;
        Ok(Request { method, url: url_template, headers: compiled, body })
    }

    fn check(&self, at: &str, f: CheckFile) -> Result<Check, SpecError> {
        let request = self.request(at, f.method, &f.url, f.headers, f.body, REQUEST_VARS)?;
        let status = f.status.unwrap_or_default();
        self.statuses(&format!("{at}.status"), &status)?;
        let pointer = self.pointer(&format!("{at}.pointer"), f.pointer)?;
        if pointer.is_none() && (f.equals.is_some() || f.not_equals.is_some()) {
            return Err(self.err(at, "`equals` and `not_equals` need a `pointer`: the place in the JSON answer they look at"));
        }
        Ok(Check { request, status, pointer, equals: f.equals, not_equals: f.not_equals })
    }

    fn op(&self, name: &'static str, f: OpFile, allowed: &[Var]) -> Result<OpDef, SpecError> {
        let at = format!("client.{name}");
        let request = self.request(&at, f.method, &f.url, f.headers, f.body, allowed)?;
        let ok = f.ok.unwrap_or_else(|| (200..300).collect());
        for (field, codes) in [("ok", &ok), ("fail", &f.fail), ("not_found", &f.not_found)] {
            self.statuses(&format!("{at}.{field}"), codes)?;
        }
        if let Some(c) = ok.iter().find(|c| f.fail.contains(c) || f.not_found.contains(c)) {
            return Err(self.err(&at, format!("status {c} is in `ok` and also in `fail` or `not_found`: give each status one meaning")));
        }
        let value = self.pointer(&format!("{at}.value"), f.value)?;
        let each = self.pointer(&format!("{at}.each"), f.each)?;
        let regex = match f.regex {
            Some(r) => Some(
                regex_lite::Regex::new(&r)
                    .map_err(|e| self.err(&format!("{at}.regex"), format!("`{r}` is not a regular expression: {e}")))?,
            ),
            None => None,
        };
        if let Some(r) = &regex {
            if r.captures_len() < 2 {
                return Err(self.err(&format!("{at}.regex"), "needs a capture group, `( … )`: the value is what it captures"));
            }
            if value.is_some() || each.is_some() {
                return Err(self.err(&at, "use either `regex` or `value` (a JSON pointer), not both"));
            }
        }
        if each.is_some() && value.is_none() {
            return Err(self.err(&format!("{at}.each"), "needs `value`: the pointer to the array whose elements `each` reads"));
        }
        if name == "read" && value.is_none() && regex.is_none() {
            return Err(self.err(
                &at,
                "a read must say where its value is in the answer: `value = \"/json/pointer\"` (\"\" for the whole body) or `regex = \"…(capture)…\"`",
            ));
        }
        let succeeded = match f.succeeded {
            Some(c) => Some((self.pointer(&format!("{at}.succeeded.pointer"), Some(c.pointer))?.unwrap_or_default(), c.equals)),
            None => None,
        };
        let error = self.pointer(&format!("{at}.error"), f.error)?;
        Ok(OpDef {
            request,
            ok,
            fail: f.fail,
            not_found: f.not_found,
            value,
            each,
            regex,
            decode: f.decode.unwrap_or(Decode::Json),
            succeeded,
            error,
            read_only: name == "read",
        })
    }

    fn spec(&self, file: SpecFile, text: &str, faultline: &str, bugs: &[String]) -> Result<Spec, SpecError> {
        super::valid_name(&file.name).map_err(|e| self.err("name", e))?;
        let node = file.node;
        let stop_signal = match node.stop_signal {
            None => None,
            Some(s) => {
                let name = if s.starts_with("SIG") { s.clone() } else { format!("SIG{s}") };
                if !STOP_SIGNALS.contains(&name.as_str()) {
                    return Err(self.err("node.stop_signal", format!("`{s}`: use one of {}", STOP_SIGNALS.join(", "))));
                }
                Some(name)
            }
        };
        let program = self.template("node.program", &node.program, &[Var::Faultline])?;
        if node.program.trim().is_empty() {
            return Err(self.err("node.program", "must name a program"));
        }
        let args =
            node.args.iter().enumerate().map(|(i, a)| self.template(&format!("node.args[{i}]"), a, NODE_VARS)).collect::<Result<_, _>>()?;
        let env = self.env("node.env", node.env)?;
        let peer = self.template("node.peer", node.peer.as_deref().unwrap_or("{ip}:{port}"), PEER_VARS)?;
        let mut files = Vec::new();
        for (i, f) in node.files.into_iter().enumerate() {
            let at = format!("node.files[{i}]");
            files.push((
                self.template(&format!("{at}.path"), &f.path, NODE_VARS)?,
                self.template(&format!("{at}.contents"), &f.contents, NODE_VARS)?,
            ));
        }
        let mut extra = Vec::new();
        let mut names = vec!["node".to_string()];
        for (i, e) in node.extra.into_iter().enumerate() {
            let at = format!("node.extra[{i}]");
            if super::valid_name(&e.name).is_err() || names.contains(&e.name) {
                return Err(self.err(
                    &format!("{at}.name"),
                    format!("`{}`: a process name of letters, digits, '-' and '_', unique per node (`node` is the main one)", e.name),
                ));
            }
            names.push(e.name.clone());
            extra.push(ExtraProcess {
                name: e.name,
                program: self.template(&format!("{at}.program"), &e.program, &[Var::Faultline])?,
                args: e
                    .args
                    .iter()
                    .enumerate()
                    .map(|(j, a)| self.template(&format!("{at}.args[{j}]"), a, NODE_VARS))
                    .collect::<Result<_, _>>()?,
                env: self.env(&format!("{at}.env"), e.env)?,
            });
        }

        let ready = file.ready;
        let timeout = self.seconds("ready.timeout_seconds", ready.timeout_seconds)?;
        let given = [ready.http.is_some(), ready.tcp_port.is_some(), ready.log.is_some()].iter().filter(|g| **g).count();
        if given != 1 {
            return Err(self.err("ready", "say how to know a node is ready with exactly one of `http` (a request), `tcp_port` (a port that accepts connections) or `log` (a regex its log matches)"));
        }
        let ready = match (ready.http, ready.tcp_port, ready.log) {
            (Some(h), _, _) => Ready::Http(self.check("ready.http", h)?, timeout),
            (_, Some(port), _) => Ready::Tcp(port, timeout),
            (_, _, Some(re)) => Ready::Log(
                regex_lite::Regex::new(&re).map_err(|e| self.err("ready.log", format!("`{re}` is not a regular expression: {e}")))?,
                timeout,
            ),
            _ => unreachable!("exactly one is given"),
        };

        let cluster = match file.cluster {
            None => None,
            Some(c) => {
                if c.command.is_some() == c.http.is_some() {
                    return Err(self.err(
                        "cluster",
                        "give exactly one of `command` (run once, on this machine) or `http` (a request to the first node)",
                    ));
                }
                let timeout = self.seconds("cluster.timeout_seconds", c.timeout_seconds)?.unwrap_or(Duration::from_secs(30));
                Some(match (c.command, c.http) {
                    (Some(cmd), _) => {
                        if cmd.is_empty() || cmd[0].trim().is_empty() {
                            return Err(self.err("cluster.command", "must name a program: [\"program\", \"arg\", …]"));
                        }
                        let cmd = cmd
                            .iter()
                            .enumerate()
                            .map(|(i, a)| self.template(&format!("cluster.command[{i}]"), a, REQUEST_VARS))
                            .collect::<Result<_, _>>()?;
                        ClusterDef::Command(cmd, timeout)
                    }
                    (_, Some(h)) => ClusterDef::Http(self.check("cluster.http", h)?, timeout),
                    _ => unreachable!("exactly one is given"),
                })
            }
        };

        let primaries = match file.primaries {
            None => None,
            Some(p) => {
                let request = self.request("primaries", p.method, &p.url, p.headers, p.body, REQUEST_VARS)?;
                Some(match (p.pointer, p.equals, p.leader, p.id) {
                    (Some(pointer), Some(equals), None, None) => {
                        Primaries::SaysItLeads { request, pointer: self.pointer("primaries.pointer", Some(pointer))?.unwrap_or_default(), equals }
                    }
                    (None, None, Some(leader), Some(id)) => Primaries::NamedByOthers {
                        request,
                        leader: self.pointer("primaries.leader", Some(leader))?.unwrap_or_default(),
                        id: self.pointer("primaries.id", Some(id))?.unwrap_or_default(),
                    },
                    _ => {
                        return Err(self.err(
                            "primaries",
                            "give either `pointer` and `equals` (each node says whether it leads) or `leader` and `id` (each node names the leader's id, and says its own)",
                        ))
                    }
                })
            }
        };

        let c = file.client;
        let key_only = &[Var::Key, Var::Name, Var::Ip, Var::Port][..];
        let with_value = &[Var::Key, Var::Value, Var::Name, Var::Ip, Var::Port][..];
        let with_cas = &[Var::Key, Var::Old, Var::New, Var::Name, Var::Ip, Var::Port][..];
        let mut ops = BTreeMap::new();
        for (name, op, allowed) in [
            ("read", c.read, key_only),
            ("write", c.write, with_value),
            ("cas", c.cas, with_cas),
            ("add", c.add, with_value),
            ("create", c.create, with_value),
        ] {
            if let Some(op) = op {
                ops.insert(name, self.op(name, op, allowed)?);
            }
        }
        if ops.is_empty() {
            return Err(self.err("client", "no operation: give at least `[client.read]` and `[client.write]`"));
        }

        let mut requirements = Vec::new();
        for (i, r) in file.requires.iter().enumerate() {
            let program =
                self.template(&format!("requires[{i}].program"), &r.program, &[Var::Faultline])?.render(&|_| super::text(faultline));
            if program.trim().is_empty() {
                return Err(self.err(&format!("requires[{i}].program"), "must name a program"));
            }
            if let Some(p) = &r.package {
                if p.is_empty() || !p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c)) {
                    return Err(self.err(&format!("requires[{i}].package"), format!("`{p}` is not a Debian package name")));
                }
            }
            requirements.push(Requirement { program, package: r.package.clone() });
        }
        let mut programs = vec![program.render(&|_| super::text(faultline))];
        programs.extend(extra.iter().map(|e| e.program.render(&|_| super::text(faultline))));
        for p in programs {
            if !requirements.iter().any(|r| r.program == p) {
                requirements.push(Requirement { program: p, package: None });
            }
        }
        let version = match file.version {
            Some(v) if v.is_empty() => return Err(self.err("version", "a command: [\"program\", \"--version\"]")),
            Some(v) => Some(
                v.iter()
                    .enumerate()
                    .map(|(i, a)| {
                        self.template(&format!("version[{i}]"), a, &[Var::Faultline]).map(|t| t.render(&|_| super::text(faultline)))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        for (name, args) in &file.bugs {
            if super::valid_name(name).is_err() {
                return Err(self.err(&format!("bugs.{name}"), "a bug's name: letters, digits, '-' and '_'"));
            }
            if args.is_empty() {
                return Err(self.err(&format!("bugs.{name}"), "the arguments that switch it on, e.g. [\"--bug\", \"stale-read\"]"));
            }
        }
        for bug in bugs {
            if !file.bugs.contains_key(bug) {
                let known: Vec<&str> = file.bugs.keys().map(String::as_str).collect();
                return Err(self.err(
                    "bugs",
                    format!(
                        "no bug `{bug}` here ({})",
                        if known.is_empty() { "this spec has no [bugs]".to_string() } else { format!("it has {}", known.join(", ")) }
                    ),
                ));
            }
        }
        let bug_args = bugs.iter().flat_map(|b| file.bugs[b].clone()).collect();
        Ok(Spec {
            name: file.name,
            path: self.path.to_path_buf(),
            text: text.to_string(),
            faultline: faultline.to_string(),
            requirements,
            version,
            node: NodeDef {
                program,
                args,
                env,
                port: node.port.unwrap_or(8080),
                peer_port: node.peer_port.unwrap_or(2380),
                peer,
                peer_separator: node.peer_separator.unwrap_or_else(|| ",".into()),
                stop_signal,
                files,
                extra,
                bug_args,
            },
            ready,
            cluster,
            client: std::sync::Arc::new(ClientDef { key_prefix: c.key_prefix, ops }),
            primaries,
            bugs: file.bugs.keys().cloned().collect(),
        })
    }

    fn env(&self, at: &str, env: BTreeMap<String, String>) -> Result<Vec<(String, Template)>, SpecError> {
        let mut out = Vec::new();
        for (name, value) in env {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(self.err(&format!("{at}.{name}"), "not an environment variable's name"));
            }
            out.push((name.clone(), self.template(&format!("{at}.{name}"), &value, NODE_VARS)?));
        }
        Ok(out)
    }
}

/// Where a spec file's copy goes in a run directory (for `--replay`).
pub const SPEC_COPY: &str = "target-spec.toml";

/// A spec path as given, made absolute against the working directory (so a rerun from
/// elsewhere, or a campaign, finds it).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;

    fn example(name: &str) -> (PathBuf, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        (path, text)
    }

    fn error(text: &str) -> String {
        compile(Path::new("my.toml"), text, "/bin/faultline", &[]).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_shipped_examples_compile_with_their_operations_and_bugs() {
        let (path, text) = example("etcd.toml");
        let etcd = compile(&path, &text, "/bin/faultline", &[]).unwrap();
        assert_eq!(etcd.name(), "etcd-spec");
        assert_eq!(etcd.operations(), ["cas", "read", "write", "add"]);
        assert_eq!(etcd.requirements()[0].package.as_deref(), Some("etcd-server"));
        assert_eq!(etcd.start_timeout(), Some(Duration::from_secs(30)));
        let (path, text) = example("bundled.toml");
        let bundled = compile(&path, &text, "/bin/faultline", &["stale-read".into()]).unwrap();
        assert_eq!(bundled.bugs(), ["lazy-fsync", "lease-read", "small-quorum", "stale-read"]);
        let e = compile(&path, &text, "/bin/faultline", &["nope".into()]).err().unwrap().to_string();
        assert!(e.contains("nope") && e.contains("lazy-fsync"), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_the_toml_path() {
        let (_, text) = example("bundled.toml");
        let cases = [
            (text.replace("tcp_port", "x").replace("http = {", "tcp_port = 8080\nhttp = {"), "my.toml: ready: "),
            (text.replace("[ready]\ntimeout_seconds = 10\n", "[ready]\ntimeout_seconds = -1\n"), "my.toml: ready.timeout_seconds: "),
            (text.replace("[client.read]\nmethod = \"POST\"", "[client.read]\nmethod = \"FETCH\""), "my.toml: client.read.method: "),
            (text.replace("url = \"http://{ip}:{port}/kv/write\"", "url = \"http://{ip}:{port}/{old}\""), "my.toml: client.write.url: "),
            (text.replace("name = \"bundled-spec\"\n", ""), "my.toml: missing field `name`"),
            (text.replacen("[client.read]", "[client.reed]", 1), "my.toml: client.reed: unknown field `reed`"),
        ];
        for (text, expected) in cases {
            let e = error(&text);
            assert!(e.starts_with(expected), "expected `{expected}…`, got: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }
}
