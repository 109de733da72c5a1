//! Placeholders in a spec's strings: `{ip}`, `{key:base64}`, … A template is parsed once, when
//! the spec is read (an unknown placeholder or filter is an error then, naming what each place
//! allows), and rendered per node and per operation. `{{` is a literal `{`; any other `{` not
//! followed by a name is literal too, so JSON bodies need no escaping.

use std::fmt::Write;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// What a placeholder names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    /// The node's name, `n1`.
    Name,
    /// Its address.
    Ip,
    /// `[node] port`.
    Port,
    /// `[node] peer_port`.
    PeerPort,
    /// Its data directory.
    DataDir,
    /// Where its logs go.
    LogDir,
    /// Every node formatted by `[node] peer`, joined by `[node] peer_separator`.
    Peers,
    /// etcd's form: `n1=http://IP1:PEER_PORT,n2=…`.
    InitialCluster,
    /// The node's number, from 1.
    Index,
    /// How many nodes.
    Nodes,
    /// The run's id (unique per run).
    RunId,
    /// The faultline binary.
    Faultline,
    /// The operation's key (with `[client] key_prefix`).
    Key,
    /// A write's or add's value.
    Value,
    /// A cas's expected value.
    Old,
    /// A cas's new value.
    New,
}

const NAMES: [(&str, Var); 16] = [
    ("name", Var::Name),
    ("ip", Var::Ip),
    ("port", Var::Port),
    ("peer_port", Var::PeerPort),
    ("data_dir", Var::DataDir),
    ("log_dir", Var::LogDir),
    ("peers", Var::Peers),
    ("initial_cluster", Var::InitialCluster),
    ("index", Var::Index),
    ("nodes", Var::Nodes),
    ("run_id", Var::RunId),
    ("faultline", Var::Faultline),
    ("key", Var::Key),
    ("value", Var::Value),
    ("old", Var::Old),
    ("new", Var::New),
];

impl Var {
    fn name(self) -> &'static str {
        NAMES.iter().find(|(_, v)| *v == self).map_or("?", |(n, _)| n)
    }
}

/// How a placeholder's text is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// As it is (a value's JSON text, a key's text).
    Raw,
    /// As JSON: a value's JSON text; any text as a quoted JSON string.
    Json,
    /// Base64 of the text.
    Base64,
    /// Percent-encoded, for a URL.
    Url,
    /// Escaped for the inside of a JSON string (no quotes).
    Str,
}

const FILTERS: [(&str, Filter); 4] = [("json", Filter::Json), ("base64", Filter::Base64), ("url", Filter::Url), ("str", Filter::Str)];

/// What a placeholder stands for at render time.
pub enum Rendered {
    /// Plain text (a name, an address, a key).
    Text(String),
    /// A JSON value's text (an operation's value).
    Json(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Var(Var, Filter),
}

/// A parsed string with placeholders.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Node placeholders: in a node's program, arguments, environment and files.
pub const NODE_VARS: &[Var] = &[
    Var::Name,
    Var::Ip,
    Var::Port,
    Var::PeerPort,
    Var::DataDir,
    Var::LogDir,
    Var::Peers,
    Var::InitialCluster,
    Var::Index,
    Var::Nodes,
    Var::RunId,
    Var::Faultline,
];
/// Where a request goes to one node (ready checks, primaries, the cluster setup).
pub const REQUEST_VARS: &[Var] =
    &[Var::Name, Var::Ip, Var::Port, Var::PeerPort, Var::Index, Var::Nodes, Var::Peers, Var::InitialCluster, Var::RunId];
/// One peer in `[node] peer`.
pub const PEER_VARS: &[Var] = &[Var::Name, Var::Ip, Var::Port, Var::PeerPort, Var::Index];

impl Template {
    /// Parses `text`, allowing the placeholders `allowed`.
    pub fn parse(text: &str, allowed: &[Var]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('{') {
            literal.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('{') {
                literal.push('{');
                rest = tail;
                continue;
            }
            let ident_len = after.find(|c: char| !(c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())).unwrap_or(after.len());
            let ident = &after[..ident_len];
            let next = after[ident_len..].chars().next();
            if ident.is_empty() || !matches!(next, Some('}') | Some(':')) {
                literal.push('{');
                rest = after;
                continue;
            }
            let (filter, consumed) = if next == Some(':') {
                let f = &after[ident_len + 1..];
                let f_len = f.find('}').ok_or_else(|| format!("`{{{ident}:…` is not closed with `}}`"))?;
                let name = &f[..f_len];
                let filter = FILTERS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, f)| *f)
                    .ok_or_else(|| format!("unknown filter `{name}` in `{{{ident}:{name}}}`: use json, base64, url or str"))?;
                (filter, ident_len + 1 + f_len + 1)
            } else {
                (Filter::Raw, ident_len + 1)
            };
            let var = NAMES.iter().find(|(n, _)| *n == ident).map(|(_, v)| *v);
            match var {
                Some(v) if allowed.contains(&v) => {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(v, filter));
                }
                _ => {
                    let names: Vec<String> = allowed.iter().map(|v| format!("{{{}}}", v.name())).collect();
                    return Err(format!(
                        "unknown placeholder `{{{ident}}}`{}: here you may use {} (`{{{{` for a literal `{{`)",
                        if var.is_some() { " in this place" } else { "" },
                        names.join(", ")
                    ));
                }
            }
            rest = &after[consumed..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// Whether it uses `var`.
    pub fn uses(&self, var: Var) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var(v, _) if *v == var))
    }

    /// The text with every placeholder replaced by `lookup`'s answer, filtered.
    pub fn render(&self, lookup: &dyn Fn(Var) -> Rendered) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v, f) => apply(&mut out, lookup(*v), *f),
            }
        }
        out
    }
}

fn apply(out: &mut String, value: Rendered, filter: Filter) {
    let (text, is_json) = match value {
        Rendered::Text(t) => (t, false),
        Rendered::Json(t) => (t, true),
    };
    match filter {
        Filter::Raw => out.push_str(&text),
        Filter::Json if is_json => out.push_str(&text),
        Filter::Json => out.push_str(&serde_json::Value::String(text).to_string()),
        Filter::Base64 => out.push_str(&B64.encode(text.as_bytes())),
        Filter::Url => {
            for b in text.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
        Filter::Str => {
            let quoted = serde_json::Value::String(text).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, allowed: &[Var]) -> String {
        Template::parse(text, allowed).unwrap().render(&|v| match v {
            Var::Key => Rendered::Text("faultline/a b".into()),
            Var::Value => Rendered::Json("[1,\"x\"]".into()),
            Var::Ip => Rendered::Text("10.0.0.1".into()),
            _ => Rendered::Text(String::new()),
        })
    }

    #[test]
    fn placeholders_are_replaced_and_filtered() {
        let all = &[Var::Key, Var::Value, Var::Ip];
        assert_eq!(render("http://{ip}:2379/v3/kv/range", all), "http://10.0.0.1:2379/v3/kv/range");
        assert_eq!(render(r#"{"key": "{key:base64}", "value": {value}}"#, all), r#"{"key": "ZmF1bHRsaW5lL2EgYg==", "value": [1,"x"]}"#);
        assert_eq!(render("{key:json} {value:json}", all), r#""faultline/a b" [1,"x"]"#);
        assert_eq!(render("/kv/{key:url}?v={value:url}", all), "/kv/faultline%2Fa%20b?v=%5B1%2C%22x%22%5D");
        assert_eq!(render(r#"{"v": "{value:str}"}"#, all), r#"{"v": "[1,\"x\"]"}"#);
        assert_eq!(render("{{ip}} {} {", all), "{ip}} {} {", "literal braces");
        assert_eq!(render("{}", all), "{}");
    }

    #[test]
    fn unknown_names_and_filters_are_errors_that_say_what_is_allowed() {
        let e = Template::parse("{ipp}", &[Var::Ip]).unwrap_err();
        assert!(e.contains("`{ipp}`") && e.contains("{ip}"), "{e}");
        let e = Template::parse("{key}", NODE_VARS).unwrap_err();
        assert!(e.contains("in this place"), "{e}");
        let e = Template::parse("{key:b64}", &[Var::Key]).unwrap_err();
        assert!(e.contains("unknown filter `b64`"), "{e}");
        assert!(Template::parse("{key:base64", &[Var::Key]).is_err());
        assert!(Template::parse("{a,b}", &[]).is_ok(), "not a placeholder: literal");
    }
}
