//! `faultline serve`: the index of the runs in a store, and their files, over HTTP. Read-only
//! (GET and HEAD), nothing outside the store, on hyper: files are streamed in 64 KiB chunks
//! (never read whole), request headers are bounded by hyper's buffer, at most
//! [`MAX_CONNECTIONS`] connections are served at once (more wait to be accepted), and a single
//! `Range: bytes=…` is honoured, for large histories.

use std::convert::Infallible;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use anyhow::Context;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

use crate::{exit_codes, Failure};

/// Connections served at once; further ones wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 64;
/// Request head (request line and headers) larger than this is refused.
const MAX_HEAD: usize = 64 << 10;
/// Bytes read from a file per chunk sent.
const CHUNK: usize = 64 << 10;

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
    let internal = |e: io::Error| Failure { error: e.into(), code: exit_codes::INTERNAL };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(internal)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.bind, args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))
            .map_err(Failure::bad_input)?;
        let addr = listener.local_addr().map_err(internal)?;
        println!("serving {} at http://{addr}/ (Ctrl-C to stop)", store.display());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let store = Arc::new(store);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else { break };
            let Ok((stream, _)) = listener.accept().await else { continue };
            let store = store.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| handle(request, store.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .max_buf_size(MAX_HEAD)
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .timer(hyper_util::rt::TokioTimer::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
                drop(permit);
            });
        }
        Ok(exit_codes::VALID)
    })
}

type Reply = Response<BoxBody<Bytes, io::Error>>;

fn reply(status: StatusCode, kind: &str, body: impl Into<Bytes>) -> Reply {
    let body = Full::new(body.into()).map_err(|never: Infallible| match never {}).boxed();
    Response::builder().status(status).header("content-type", kind).body(body).unwrap_or_else(|_| Response::new(empty()))
}

fn empty() -> BoxBody<Bytes, io::Error> {
    Full::new(Bytes::new()).map_err(|never: Infallible| match never {}).boxed()
}

async fn handle(request: Request<Incoming>, store: Arc<PathBuf>) -> Result<Reply, Infallible> {
    let head = request.method() == hyper::Method::HEAD;
    if request.method() != hyper::Method::GET && !head {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n"));
    }
    let path = percent_decode(request.uri().path());
    let mut response = if path == "/" || path == "/index.html" {
        let page = report::index::render(&store.display().to_string(), &report::index::scan(&store));
        reply(StatusCode::OK, "text/html; charset=utf-8", page)
    } else {
        match resolve(&store, &path) {
            Some(file) if file.is_dir() => reply(StatusCode::OK, "text/html; charset=utf-8", listing(&path, &file)),
            Some(file) => {
                let range = request.headers().get(hyper::header::RANGE).and_then(|r| r.to_str().ok()).map(str::to_string);
                serve_file(&file, range.as_deref()).await
            }
            None => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
        }
    };
    if head {
        *response.body_mut() = empty();
    }
    Ok(response)
}

/// A file, whole or the one range asked for, streamed.
async fn serve_file(file: &Path, range: Option<&str>) -> Reply {
    let Ok(mut handle) = tokio::fs::File::open(file).await else { return reply(StatusCode::NOT_FOUND, "text/plain", "not found\n") };
    let Ok(size) = handle.metadata().await.map(|m| m.len()) else { return reply(StatusCode::NOT_FOUND, "text/plain", "not found\n") };
    let (status, start, len) = match range.map(|r| parse_range(r, size)) {
        None => (StatusCode::OK, 0, size),
        Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Some(None) => {
            let mut r = reply(StatusCode::RANGE_NOT_SATISFIABLE, "text/plain", "range not satisfiable\n");
            if let Ok(v) = format!("bytes */{size}").parse() {
                r.headers_mut().insert(hyper::header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    if start > 0 && handle.seek(io::SeekFrom::Start(start)).await.is_err() {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "cannot seek\n");
    }
    let body = FileBody { file: handle, remaining: len, buf: vec![0; CHUNK] }.boxed();
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type(file))
        .header("content-length", len)
        .header("accept-ranges", "bytes");
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header("content-range", format!("bytes {start}-{}/{size}", start + len - 1));
    }
    builder.body(body).unwrap_or_else(|_| Response::new(empty()))
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a file of `size` bytes: the inclusive range,
/// or `None` when it cannot be satisfied (several ranges are not served).
fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (a, "") => (a.parse().ok()?, size - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

/// A file (from its current position) sent in chunks of at most [`CHUNK`] bytes, each read
/// only when the connection can take it.
struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = (this.remaining as usize).min(this.buf.len());
        let mut read = ReadBuf::new(&mut this.buf[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if read.filled().is_empty() => {
                Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file got shorter"))))
            }
            Poll::Ready(Ok(())) => {
                let data = Bytes::copy_from_slice(read.filled());
                this.remaining -= data.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
        }
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
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("lines=0-1", 100), None);
    }

    #[test]
    fn refuses_paths_outside_the_store() {
        let store = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(resolve(&store, "/../etc/passwd"), None);
        assert_eq!(resolve(&store, &percent_decode("/%2e%2e/etc/passwd")), None);
    }
}
