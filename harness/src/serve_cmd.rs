//! `faultline serve`: the index of the runs in a store, and their files, over HTTP. A small
//! read-only file server on the standard library: GET only, nothing outside the store.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::{exit_codes, Failure};

/// Arguments of `faultline serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The store to serve.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// The port (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
}

/// Serves the store until killed.
pub fn run(args: ServeArgs) -> Result<i32, Failure> {
    let store = args
        .store
        .canonicalize()
        .with_context(|| format!("the store {} does not exist (run `faultline test` first, or pass --store)", args.store.display()))
        .map_err(Failure::bad_input)?;
    let listener = TcpListener::bind((args.bind, args.port))
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))
        .map_err(Failure::bad_input)?;
    let addr = listener.local_addr().map_err(|e| Failure { error: e.into(), code: exit_codes::INTERNAL })?;
    println!("serving {} at http://{addr}/ (Ctrl-C to stop)", store.display());
    let _ = std::io::stdout().flush();
    for stream in listener.incoming().flatten() {
        let store = store.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &store);
        });
    }
    Ok(exit_codes::VALID)
}

fn handle(mut stream: TcpStream, store: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Drain the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain", b"GET only\n", method == "HEAD");
    }
    let path = percent_decode(target.split('?').next().unwrap_or("/"));
    if path == "/" || path == "/index.html" {
        let page = report::index::render(&store.display().to_string(), &report::index::scan(store));
        return respond(&mut stream, "200 OK", "text/html; charset=utf-8", page.as_bytes(), method == "HEAD");
    }
    match resolve(store, &path) {
        Some(file) if file.is_dir() => {
            let page = listing(&path, &file);
            respond(&mut stream, "200 OK", "text/html; charset=utf-8", page.as_bytes(), method == "HEAD")
        }
        Some(file) => match std::fs::read(&file) {
            Ok(body) => respond(&mut stream, "200 OK", content_type(&file), &body, method == "HEAD"),
            Err(_) => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n", method == "HEAD"),
        },
        None => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n", method == "HEAD"),
    }
}

/// The file for a request path, only if it is inside the store (after following links).
fn resolve(store: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.trim_start_matches('/');
    if relative.split('/').any(|c| c == "..") {
        return None;
    }
    let file = store.join(relative).canonicalize().ok()?;
    file.starts_with(store).then_some(file)
}

fn listing(path: &str, dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().to_string() + if e.path().is_dir() { "/" } else { "" }).collect())
        .unwrap_or_default();
    names.sort();
    let base = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
    let items: String =
        names.iter().map(|n| format!("<li><a href=\"{0}{1}\">{1}</a></li>", report::html::esc(&base), report::html::esc(n))).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{0}</title></head><body><h1>{0}</h1><ul>{items}</ul></body></html>",
        report::html::esc(path)
    )
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    }
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8], head: bool) -> std::io::Result<()> {
    write!(stream, "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    if !head {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// `%20` and friends; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("/a%20b/c"), "/a b/c");
        assert_eq!(percent_decode("/%2e%2e/x"), "/../x");
        assert_eq!(percent_decode("/bad%zz"), "/bad%zz");
        assert_eq!(percent_decode("/é%"), "/é%");
    }

    #[test]
    fn refuses_paths_outside_the_store() {
        let store = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(resolve(&store, "/../etc/passwd"), None);
        assert_eq!(resolve(&store, &percent_decode("/%2e%2e/etc/passwd")), None);
    }
}
