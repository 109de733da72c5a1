//! The report as a user gets it: `faultline check --report`, `faultline report DIR` with the
//! store's index, `faultline serve`, and a 100,000-op report loaded in a real headless browser.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::{text, TestConfig};
use results::{FaultsRecord, NodeRecord, OpCounts, RunRecord, TestRecord};

fn faultline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faultline")).args(args).output().unwrap()
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples").join(name).display().to_string()
}

/// A scratch directory, removed at the end even on failure.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("faultline-report-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn join(&self, p: &str) -> String {
        self.0.join(p).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn check_writes_a_report_naming_the_failing_op() {
    let dir = Scratch::new("check");
    let out = dir.join("stale.html");
    let o = faultline(&["check", &sample("stale-read.jsonl"), "--report", &out]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains(r#"<p class="verdict invalid">"#));
    assert!(html.contains("process 1: read -&gt; 2 (history index 8, line 9)"), "the failing op");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing is fetched from the network");

    // A report that cannot be written is an error naming the file.
    let o = faultline(&["check", &sample("stale-read.jsonl"), "--report", "/nonexistent/dir/r.html"]);
    assert_eq!(o.status.code(), Some(254), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent/dir/r.html"), "{}", text(&o));
}

/// A run directory as `faultline test` leaves it, from a sample history: its records are
/// made with the same types the runner writes.
fn fake_run(store: &Path, name: &str, stamp: &str, seed: u64) -> PathBuf {
    use checkers::{CheckOptions, Checker, Compose, Linearizable};
    let dir = store.join(name).join(stamp);
    std::fs::create_dir_all(dir.join("nodes/n1")).unwrap();
    std::fs::copy(sample("cas-register-valid.jsonl"), dir.join("history.jsonl")).unwrap();
    std::fs::write(dir.join("nodes/n1/node.log"), "started\n").unwrap();
    let config = TestConfig { seed: Some(seed), nemesis: vec!["partition".into()], time_limit: 10.0, ..TestConfig::default() };
    let test = TestRecord {
        name: name.to_string(),
        run_id: "abc123".into(),
        seed,
        started: format!("2026-11-2{seed}T10:00:00Z"),
        rerun: config.rerun_command(),
        faultline_version: "0.1.0".into(),
        target_version: None,
        nodes: vec![NodeRecord { name: "n1".into(), ip: "10.0.0.1".into(), namespace: "fl-abc123-n1".into() }],
        notes: Vec::new(),
        config,
    };
    std::fs::write(dir.join("test.json"), serde_json::to_string(&test).unwrap()).unwrap();
    let history = history::History::read_jsonl("h", std::fs::read(dir.join("history.jsonl")).unwrap().as_slice()).unwrap();
    let checker = Compose(vec![Box::new(Linearizable::new(checkers::models::ModelName::CasRegister))]);
    let checks = checker.check(&history, &CheckOptions::default()).unwrap();
    let record = RunRecord {
        valid: checks.valid,
        interrupted: false,
        history_incomplete: None,
        duration_seconds: 9.5,
        faults: FaultsRecord { kinds: vec!["partition".into()], ..FaultsRecord::default() },
        ops: OpCounts::of(&history),
        cluster: Default::default(),
        checks,
    };
    std::fs::write(dir.join("results.json"), serde_json::to_string(&record).unwrap()).unwrap();
    dir
}

#[test]
fn report_renders_a_run_again_and_indexes_the_store() {
    let store = Scratch::new("store");
    let older = fake_run(&store.0, "demo", "20261121T100000.000Z", 1);
    let newer = fake_run(&store.0, "demo", "20261122T100000.000Z", 2);
    for dir in [&older, &newer] {
        let o = faultline(&["report", &dir.display().to_string()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let html = std::fs::read_to_string(newer.join("report.html")).unwrap();
    assert!(html.contains(r#"<p class="verdict valid">"#));
    assert!(html.contains("faultline test --target=bundled") && html.contains("--seed=2 "), "the command that re-runs it");
    assert!(html.contains(r#"<a href="nodes/n1/node.log">"#), "node logs linked");
    let index = std::fs::read_to_string(store.0.join("index.html")).unwrap();
    let (a, b) = (index.find("20261122T100000.000Z/report.html").unwrap(), index.find("20261121T100000.000Z/report.html").unwrap());
    assert!(a < b, "newest first");
    assert!(index.contains(r#"<tr class="valid"><td>2026-11-22T10:00:00Z</td><td>demo</td><td><span class="badge">valid</span></td><td>9.5 s</td><td>partition</td><td>2</td>"#), "{index}");

    // Broken stored files are named in the error.
    std::fs::write(newer.join("results.json"), "{not json").unwrap();
    let o = faultline(&["report", &newer.display().to_string()]);
    assert_eq!(o.status.code(), Some(254), "{}", text(&o));
    assert!(text(&o).contains("results.json"), "{}", text(&o));
    let o = faultline(&["report", &store.join("nothing-here")]);
    assert_eq!(o.status.code(), Some(254));
}

fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.lines().next().unwrap_or("").to_string(), body.to_string())
}

#[test]
fn serve_lists_the_runs_and_serves_their_files_only() {
    let store = Scratch::new("serve");
    let run = fake_run(&store.0, "demo", "20261122T100000.000Z", 2);
    assert_eq!(faultline(&["report", &run.display().to_string()]).status.code(), Some(0));
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--store", &store.0.display().to_string(), "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_else(|| panic!("{line}")).to_string();
    let index = get(&addr, "/");
    let report = get(&addr, "/demo/20261122T100000.000Z/report.html");
    let log = get(&addr, "/demo/20261122T100000.000Z/nodes/n1/node.log");
    let escape = get(&addr, "/../../etc/passwd");
    let encoded = get(&addr, "/%2e%2e/%2e%2e/etc/passwd");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(index.0, "HTTP/1.1 200 OK");
    assert!(index.1.contains("demo/20261122T100000.000Z/report.html"), "{}", index.1);
    assert_eq!(report.0, "HTTP/1.1 200 OK");
    assert!(report.1.contains(r#"<p class="verdict valid">"#));
    assert_eq!(log.1, "started\n");
    assert_eq!(escape.0, "HTTP/1.1 404 Not Found");
    assert_eq!(encoded.0, "HTTP/1.1 404 Not Found");
}

/// Loads a 100,000-op report from disk in headless Chromium (no network) and checks that its
/// script drew everything without an error; keeps a screenshot in the target directory.
#[test]
fn a_100k_op_report_renders_in_a_real_browser() {
    let present = Command::new("sh").args(["-c", "command -v chromium"]).output().is_ok_and(|o| o.status.success());
    if !present {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "chromium is missing under CI");
        eprintln!("SKIPPED: chromium is not installed (scripts/test.sh installs it as root)");
        return;
    }
    let dir = Scratch::new("browser");
    let spec = checkers::synth::Spec {
        keys: 20,
        info_rate: 0.01,
        ..checkers::synth::Spec::new(checkers::synth::Workload::CasRegister, 100_000, 10, 7)
    };
    let mut file = std::fs::File::create(dir.join("h.jsonl")).unwrap();
    checkers::synth::generate(&spec).write_jsonl(&mut file).unwrap();
    let report = dir.join("report.html");
    let o = faultline(&["check", &dir.join("h.jsonl"), "--report", &report]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let url = format!("file://{report}");
    let chromium = |extra: &[&str]| {
        Command::new("timeout")
            .args(["120", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
            .arg(format!("--user-data-dir={}", dir.join("profile")))
            .args(extra)
            .arg(&url)
            .output()
            .unwrap()
    };
    let dom = chromium(&["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains(r#"<body data-rendered="ok""#),
        "the script ran without errors: {}",
        &dom_text[dom_text.find("<body").unwrap_or(0)..][..200.min(dom_text.len())]
    );
    assert!(dom_text.contains("Drawn 100000 ops."), "every op reached the canvases");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-100k.png");
    let o = chromium(&["--window-size=1200,2400", &format!("--screenshot={}", shot.display())]);
    assert!(shot.metadata().is_ok_and(|m| m.len() > 10_000), "a screenshot: {}", text(&o));
    eprintln!("screenshot: {}", shot.display());
}

/// The peak resident memory of a process, from /proc (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// Issue 10, item 10: 8 concurrent downloads of a 500 MB file took the hand-written server to
/// 4 GiB, and a 300 MB header line to 313 MB. On hyper, files are streamed: 8 clients download
/// 100 MiB each while the server stays under 64 MiB resident; a Range gets its bytes; a
/// header past the limit is refused.
#[test]
fn serve_streams_large_files_within_bounded_memory() {
    let store = Scratch::new("serve-big");
    let run = fake_run(&store.0, "demo", "20261122T100000.000Z", 2);
    let big = run.join("big.log");
    std::fs::File::create(&big).unwrap().set_len(100 << 20).unwrap(); // sparse: no disk used
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--store", &store.0.display().to_string(), "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_else(|| panic!("{line}")).to_string();
    let path = "/demo/20261122T100000.000Z/big.log";
    let downloads: Vec<_> = (0..8)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
                let mut total = 0u64;
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => total += n as u64,
                    }
                }
                total
            })
        })
        .collect();
    let received: Vec<u64> = downloads.into_iter().map(|d| d.join().unwrap()).collect();
    let (status, body) = {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = Vec::new();
        s.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (head.to_string(), body.len())
    };
    // A request head far past the limit is refused without being held.
    let huge_refused = {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let _ = write!(s, "GET / HTTP/1.1\r\nX-Big: ");
        let chunk = vec![b'a'; 1 << 20];
        let mut sent = 0;
        while sent < 300 && s.write_all(&chunk).is_ok() {
            sent += 1;
        }
        sent < 300
    };
    let peak = peak_rss(child.id());
    let _ = child.kill();
    let _ = child.wait();
    for r in &received {
        assert!(*r > 100 << 20, "each client got the whole file and the headers: {r}");
    }
    assert!(status.starts_with("HTTP/1.1 206"), "{status}");
    assert!(status.to_lowercase().contains("content-range: bytes 100-199/104857600"), "{status}");
    assert_eq!(body, 100);
    assert!(huge_refused, "the server closed the connection before 300 MB of header");
    assert!(peak < 64 << 20, "peak resident memory {} MiB", peak >> 20);
    eprintln!("serve: 8 x 100 MiB downloaded, peak RSS {} MiB", peak >> 20);
}
