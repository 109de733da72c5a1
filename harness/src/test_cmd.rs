//! `faultline test`: start a cluster in network namespaces, drive the workload, record the
//! history, tear everything down, check the history, and leave a run directory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use checkers::models::ModelName;
use checkers::{CheckOptions, Validity};
use nemesis::command::installed;
use nemesis::RunId;
use results::{HistoryWriter, RunDir};
use serde::Serialize;
use workloads::generator::{rotate_keys, stagger, time_limit, BoxGen};

use crate::cluster::Cluster;
use crate::db::Db;
use crate::exit_codes;
use crate::runner::{drive, progress, Counters, Stop, Worker};
use crate::targets::etcd::Etcd;
use crate::Failure;

/// Arguments of `faultline test`.
#[derive(clap::Args, Debug, Clone, Serialize)]
pub struct TestArgs {
    /// The system under test: etcd.
    #[arg(long, default_value = "etcd")]
    pub target: String,
    /// The workload: register (read / write / cas on rotating keys, checked per key).
    #[arg(long, default_value = "register")]
    pub workload: String,
    /// Number of nodes.
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// Concurrent clients; client i talks to node i mod nodes.
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Seconds of workload.
    #[arg(long, default_value_t = 30.0)]
    pub time_limit: f64,
    /// Operations per second over all clients (0: as fast as the clients go).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seed of every random choice (random, and printed, when left out).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Operations per key before the workload moves on to a fresh key.
    #[arg(long, default_value_t = 100)]
    pub ops_per_key: u64,
    /// Seconds before a request is given up as indeterminate.
    #[arg(long, default_value_t = 1.0)]
    pub request_timeout: f64,
    /// Seconds the checker may take before answering unknown.
    #[arg(long, default_value_t = 60.0)]
    pub check_timeout: f64,
    /// Where run directories go.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// The test's name (default: TARGET-WORKLOAD).
    #[arg(long)]
    pub name: Option<String>,
    /// The etcd binary.
    #[arg(long, default_value = "etcd")]
    pub etcd_binary: String,
    /// Seconds a node may take to become ready.
    #[arg(long, default_value_t = 30.0)]
    pub start_timeout: f64,
    /// Do not install missing system packages (ip, iptables, the target) with apt-get; stop
    /// with the install command instead.
    #[arg(long)]
    pub no_install: bool,
    /// For tests of faultline itself: panic after this many seconds of workload.
    #[arg(long, hide = true)]
    pub fail_after: Option<f64>,
}

/// `test.json`: everything needed to understand and repeat the run.
#[derive(Serialize)]
struct TestRecord<'a> {
    name: &'a str,
    run_id: &'a str,
    seed: u64,
    started: &'a str,
    rerun: String,
    faultline_version: &'static str,
    target_version: Option<String>,
    nodes: Vec<serde_json::Value>,
    config: &'a TestArgs,
}

/// `results.json`.
#[derive(Serialize)]
struct RunResults {
    valid: Validity,
    interrupted: bool,
    ops: serde_json::Value,
    cluster: serde_json::Value,
    linearizable: checkers::LinearizabilityResult,
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::bad_input(anyhow!(msg.into()))
}

fn internal(e: anyhow::Error) -> Failure {
    Failure { error: e, code: exit_codes::INTERNAL }
}

/// Checks what the run needs before anything is created. Missing packages are installed with
/// apt-get when faultline runs as root on Debian (saying so), unless `--no-install`.
fn preflight(args: &TestArgs, program: &str, package: &str) -> Result<(), Failure> {
    if !nix::unistd::geteuid().is_root() {
        return Err(bad("faultline test needs root: it creates network namespaces and iptables rules (run it as root, e.g. with sudo)"));
    }
    let program_present = |p: &str| installed(p) || std::path::Path::new(p).is_file();
    let mut missing: Vec<(&str, String)> = Vec::new();
    for tool in ["ip", "iptables"] {
        if !installed(tool) {
            missing.push((tool, package_of(tool).to_string()));
        }
    }
    // A path given explicitly (--etcd-binary /x/etcd) is the user's; only install by name.
    if !program_present(program) {
        if program.contains('/') {
            return Err(bad(format!("the {} binary `{program}` does not exist", args.target)));
        }
        missing.push((program, package.to_string()));
    }
    if !missing.is_empty() {
        let packages: Vec<String> = missing.iter().map(|(_, p)| p.clone()).collect();
        if args.no_install || !installed("apt-get") {
            let (tool, _) = &missing[0];
            return Err(bad(format!("`{tool}` is not installed: install it with `apt-get install -y {}`", packages.join(" "))));
        }
        install(&packages)?;
    }
    if !(1..=50).contains(&args.nodes) {
        return Err(bad("--nodes must be between 1 and 50"));
    }
    if args.concurrency == 0 {
        return Err(bad("--concurrency must be at least 1"));
    }
    if args.workload != "register" {
        return Err(bad(format!("unknown workload `{}`; available: register", args.workload)));
    }
    Ok(())
}

fn package_of(tool: &str) -> &str {
    match tool {
        "ip" => "iproute2",
        other => other,
    }
}

/// `apt-get install -y PACKAGES`, updating the package lists first if that is needed.
fn install(packages: &[String]) -> Result<(), Failure> {
    println!("faultline: installing {} with apt-get (needed by this test; --no-install to stop instead)", packages.join(" "));
    let apt = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut args = vec!["install", "-y", "-q"];
    args.extend(packages.iter().map(String::as_str));
    if apt(&args) || (apt(&["update", "-q"]) && apt(&args)) {
        return Ok(());
    }
    Err(bad(format!("could not install {}: run `apt-get update && apt-get install -y {}` and try again", packages.join(" "), packages.join(" "))))
}

pub fn run(args: TestArgs) -> Result<i32, Failure> {
    match args.target.as_str() {
        "etcd" => {
            let db = Etcd { binary: args.etcd_binary.clone(), cluster_token: String::new() };
            preflight(&args, db.program(), db.package())?;
            run_with(args, |run| Etcd { cluster_token: format!("faultline-{run}"), ..db })
        }
        other => Err(bad(format!("unknown target `{other}`; available: etcd"))),
    }
}

fn run_with<D: Db>(args: TestArgs, make_db: impl FnOnce(&RunId) -> D) -> Result<i32, Failure> {
    let name = args.name.clone().unwrap_or_else(|| format!("{}-{}", args.target, args.workload));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(bad(format!("--name `{name}`: use letters, digits, '.', '_' and '-'")));
    }
    let seed = args.seed.unwrap_or_else(|| u64::from_str_radix(RunId::fresh().as_str(), 16).unwrap_or(1));
    let run_id = RunId::fresh();
    let db = make_db(&run_id);
    let run_dir = RunDir::create(&args.store, &name)
        .with_context(|| format!("cannot create a run directory under {}", args.store.display()))
        .map_err(Failure::bad_input)?;
    println!("faultline test {name}: run {run_id}, seed {seed}, {} {} nodes, {} clients, {} s", args.nodes, args.target, args.concurrency, args.time_limit);
    println!("run directory: {}", run_dir.path.display());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(internal)?;
    runtime.block_on(run_async(args, name, seed, run_id, db, run_dir))
}

async fn run_async<D: Db>(args: TestArgs, name: String, seed: u64, run_id: RunId, db: D, run_dir: RunDir) -> Result<i32, Failure> {
    let stop = Arc::new(Stop::default());
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    spawn_signal_handler(stop.clone(), interrupted.clone());

    let mut cluster = Cluster::create(run_id.clone(), args.nodes, &run_dir.path).map_err(internal)?;
    let record = TestRecord {
        name: &name,
        run_id: run_id.as_str(),
        seed,
        started: &run_dir.started,
        rerun: rerun_command(&args, seed),
        faultline_version: env!("CARGO_PKG_VERSION"),
        target_version: db.version(),
        nodes: cluster.nodes.iter().map(|n| serde_json::json!({"name": n.name, "ip": n.ip.to_string(), "namespace": n.namespace})).collect(),
        config: &args,
    };
    run_dir.write_json("test.json", &record).context("cannot write test.json").map_err(internal)?;

    let start_time = cluster
        .start_all(&db, Duration::from_secs_f64(args.start_timeout), || stop.is_set())
        .await
        .map_err(|e| Failure { error: e, code: exit_codes::INTERNAL })?;
    println!("cluster ready in {:.2} s: {}", start_time.as_secs_f64(), cluster.nodes.iter().map(|n| format!("{} {}", n.name, n.ip)).collect::<Vec<_>>().join(", "));

    let timeout = Duration::from_secs_f64(args.request_timeout);
    let mut workers = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let node = &cluster.nodes[i % cluster.nodes.len()];
        let client = db.client(node, timeout).with_context(|| format!("cannot create a client for {}", node.name)).map_err(internal)?;
        workers.push(Worker { client, node: node.name.clone() });
    }

    let start = Instant::now();
    let history = Arc::new(HistoryWriter::create(&run_dir.path.join("history.jsonl"), start).context("cannot create history.jsonl").map_err(internal)?);
    let counters = Arc::new(Counters::default());
    let limit = Duration::from_secs_f64(args.time_limit);
    let generator = workload_generator(&args, limit);
    let progress_stop = Arc::new(Stop::default());
    let progress_task = tokio::spawn(progress(history.clone(), counters.clone(), progress_stop.clone(), start, limit));
    let workload = drive(workers, generator, seed, history.clone(), counters.clone(), stop.clone(), start, timeout + Duration::from_secs(1));
    match args.fail_after {
        Some(secs) => {
            tokio::select! {
                _ = workload => {}
                _ = tokio::time::sleep(Duration::from_secs_f64(secs)) => panic!("injected failure (--fail-after {secs})"),
            }
        }
        None => workload.await,
    }
    progress_stop.set();
    let _ = progress_task.await;

    let (teardown_time, problems) = cluster.teardown();
    for p in &problems {
        eprintln!("teardown: {p}");
    }
    let interrupted = interrupted.load(std::sync::atomic::Ordering::SeqCst);
    let history = Arc::try_unwrap(history).map_err(|_| internal(anyhow!("history still in use"))).and_then(|h| {
        h.finish(&run_dir.path.join("history.jsonl").display().to_string()).context("cannot write history.jsonl").map_err(internal)
    })?;
    println!(
        "workload done: {} ops recorded; cluster torn down in {:.2} s{}",
        history.ops.len(),
        teardown_time.as_secs_f64(),
        if interrupted { " (interrupted)" } else { "" }
    );

    let options = CheckOptions { timeout: Some(Duration::from_secs_f64(args.check_timeout)), all_keys: true, ..CheckOptions::default() };
    let result = ModelName::CasRegister.check(None, &history, &options).map_err(|e| internal(anyhow!("the recorded history is malformed: {e}")))?;
    let (ok, fail, info) = (counters.ok.load(std::sync::atomic::Ordering::Relaxed), counters.fail.load(std::sync::atomic::Ordering::Relaxed), counters.info.load(std::sync::atomic::Ordering::Relaxed));
    let mut ok_per_key: Vec<usize> = Vec::new();
    {
        let mut by_key: std::collections::BTreeMap<String, usize> = Default::default();
        let pairs = history.pair().unwrap_or_default();
        for p in pairs.iter().filter(|p| p.outcome == checkers::Outcome::Ok) {
            let key = history.ops[p.invoke].key.as_ref().map(|k| k.to_string()).unwrap_or_default();
            *by_key.entry(key).or_default() += 1;
        }
        ok_per_key.extend(by_key.values());
        ok_per_key.sort_unstable();
    }
    let results = RunResults {
        valid: if interrupted && result.valid == Validity::Valid { Validity::Unknown } else { result.valid },
        interrupted,
        ops: serde_json::json!({
            "ok": ok, "fail": fail, "info": info,
            "keys": ok_per_key.len(),
            "ok_per_key_min": ok_per_key.first(), "ok_per_key_median": ok_per_key.get(ok_per_key.len() / 2), "ok_per_key_max": ok_per_key.last(),
        }),
        cluster: serde_json::json!({"start_seconds": start_time.as_secs_f64(), "teardown_seconds": teardown_time.as_secs_f64(), "teardown_problems": problems}),
        linearizable: result,
    };
    run_dir.write_json("results.json", &results).context("cannot write results.json").map_err(internal)?;

    println!("ok {ok}, fail {fail}, info {info} over {} keys (ok per key: median {})", ok_per_key.len(), ok_per_key.get(ok_per_key.len() / 2).copied().unwrap_or(0));
    print!("{}", crate::check_cmd::explain(&results.linearizable, &options));
    if interrupted {
        println!("interrupted: the verdict covers only what was recorded before the stop");
    }
    println!("results: {}", run_dir.path.display());
    Ok(match results.valid {
        Validity::Valid => exit_codes::VALID,
        Validity::Invalid => exit_codes::INVALID,
        Validity::Unknown => exit_codes::UNKNOWN,
    })
}

/// The register workload at `--rate`, on keys rotating every `--ops-per-key`, for `limit`.
fn workload_generator(args: &TestArgs, limit: Duration) -> BoxGen {
    let ops = rotate_keys(args.ops_per_key, workloads::register::operations());
    let paced = if args.rate > 0.0 { stagger(args.rate, ops) } else { ops };
    time_limit(limit, paced)
}

/// SIGINT / SIGTERM: stop the workload; the normal path then tears everything down.
fn spawn_signal_handler(stop: Arc<Stop>, interrupted: Arc<std::sync::atomic::AtomicBool>) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            eprintln!("faultline: cannot install signal handlers; Ctrl-C will not clean up");
            return;
        };
        tokio::select! {
            _ = term.recv() => eprintln!("faultline: SIGTERM: stopping and cleaning up"),
            _ = int.recv() => eprintln!("faultline: interrupted: stopping and cleaning up"),
        }
        interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
        stop.set();
    });
}

/// The command that repeats this run with the same seed.
fn rerun_command(args: &TestArgs, seed: u64) -> String {
    let mut cmd = format!(
        "faultline test --target {} --workload {} --nodes {} --concurrency {} --time-limit {} --rate {} --ops-per-key {} --seed {seed}",
        args.target, args.workload, args.nodes, args.concurrency, args.time_limit, args.rate, args.ops_per_key
    );
    if let Some(name) = &args.name {
        cmd.push_str(&format!(" --name {name}"));
    }
    cmd
}
