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
use crate::faults::{self, Fault, Targets};
use crate::schedule;
use crate::exit_codes;
use crate::runner::{drive, progress, Counters, Stop, Worker};
use crate::targets::etcd::Etcd;
use crate::Failure;

/// Arguments of `faultline test`.
#[derive(clap::Args, Debug, Clone, Serialize)]
pub struct TestArgs {
    /// The system under test: bundled (faultline's own replicated KV node) or etcd.
    #[arg(long, default_value = "bundled")]
    pub target: String,
    /// Bugs to switch on in the bundled node: stale-read, lazy-fsync, small-quorum, lease-read.
    #[arg(long)]
    pub bug: Vec<String>,
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
    /// Faults to inject, comma-separated: partition, kill, pause, clock, loss, latency, all, or
    /// none.
    #[arg(long, value_delimiter = ',', default_value = "partition,kill")]
    pub nemesis: Vec<String>,
    /// Seconds between faults, and how long each lasts.
    #[arg(long, default_value_t = 5.0)]
    pub nemesis_interval: f64,
    /// Partition shapes to draw from (one, halves, majorities-ring, bridge, primaries,
    /// one-way), or one explicit grudge: `n1,n2|n3,n4,n5` or `n1>n2;n3>n2`.
    #[arg(long, default_value = "one,halves,majorities-ring,bridge,primaries")]
    pub partition: String,
    /// Nodes a kill hits, drawn per fault from: one, minority, majority, primaries, all.
    #[arg(long, value_delimiter = ',', default_value = "one,minority,primaries")]
    pub kill_targets: Vec<String>,
    /// Nodes a pause hits, drawn per fault from: one, minority, majority, primaries, all.
    #[arg(long, value_delimiter = ',', default_value = "one,minority,primaries")]
    pub pause_targets: Vec<String>,
    /// Fraction of incoming packets a loss fault drops at its nodes.
    #[arg(long, default_value_t = 0.2)]
    pub loss: f64,
    /// Delay a latency fault adds to every packet arriving at its nodes, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub latency_ms: u64,
    /// Up to this many more milliseconds, at random, per packet.
    #[arg(long, default_value_t = 20)]
    pub jitter_ms: u64,
    /// How clock faults skew clocks: `faketime` (per node, libc targets) or `system` (moves the
    /// whole machine's clock with clock_settime and restores it; only with --nodes 1 or real
    /// hosts, and only when asked for explicitly).
    #[arg(long, default_value = "faketime")]
    pub clock_strategy: String,
    /// Largest clock offset of a clock fault, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub clock_skew_ms: i64,
    /// How a faketime clock fault moves clocks: `bump` (one jump at the start, back at the
    /// heal), `strobe` (jumping between the offset and none every 50 ms), or `mixed` (either,
    /// at random per fault).
    #[arg(long, default_value = "mixed", value_parser = ["mixed", "bump", "strobe"])]
    pub clock_mode: String,
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
    /// From the start of the workload to the end of the final reads.
    duration_seconds: f64,
    nemesis: serde_json::Value,
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
    let wants_clock = args.nemesis.iter().any(|n| n == "clock" || n == "all");
    if wants_clock && !std::path::Path::new(nemesis::clock::LIBFAKETIME).exists() {
        missing.push(("libfaketime", "libfaketime".to_string()));
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
    for fault in &args.nemesis {
        match fault.as_str() {
            "partition" | "kill" | "pause" | "clock" | "loss" | "latency" | "all" | "none" => {}
            other => return Err(bad(format!("unknown fault `{other}`: partition, kill, pause, clock, loss, latency, all, none"))),
        }
    }
    if args.nemesis_interval <= 0.0 {
        return Err(bad("--nemesis-interval must be positive"));
    }
    if !(0.0..=1.0).contains(&args.loss) {
        return Err(bad("--loss is a fraction between 0 and 1"));
    }
    Ok(())
}

/// The faults asked for, and notes about those that cannot be injected on this target.
fn build_faults(args: &TestArgs, program: &str) -> Result<(Vec<Box<dyn Fault>>, Vec<String>), Failure> {
    let wants = |f: &str| args.nemesis.iter().any(|n| n == f || n == "all");
    let targets = |list: &[String]| list.iter().map(|t| Targets::parse(t)).collect::<Result<Vec<_>, _>>().map_err(bad);
    let mut list: Vec<Box<dyn Fault>> = Vec::new();
    let mut notes = Vec::new();
    if wants("partition") {
        let shapes = if args.partition.contains('|') || args.partition.contains('>') {
            vec![nemesis::grudge::Shape::parse(&args.partition).map_err(bad)?]
        } else {
            args.partition.split(',').map(nemesis::grudge::Shape::parse).collect::<Result<Vec<_>, _>>().map_err(bad)?
        };
        list.push(Box::new(faults::partition::Partition { shapes }));
    }
    if wants("kill") {
        list.push(Box::new(faults::kill::Kill::new(targets(&args.kill_targets)?)));
    }
    if wants("pause") {
        list.push(Box::new(faults::pause::Pause::new(targets(&args.pause_targets)?)));
    }
    if wants("loss") {
        list.push(Box::new(faults::loss::Loss { probability: args.loss, targets: vec![Targets::One, Targets::Minority] }));
    }
    if wants("latency") {
        let (delay, jitter) = (Duration::from_millis(args.latency_ms), Duration::from_millis(args.jitter_ms));
        list.push(Box::new(faults::latency::Latency::new(delay, jitter, vec![Targets::One, Targets::Minority])));
    }
    if wants("clock") && args.clock_strategy == "system" {
        if args.nodes > 1 {
            return Err(bad("--clock-strategy system moves the whole machine's clock, which every local node shares: use it with --nodes 1 (or real hosts)"));
        }
        notes.push("clock faults move this machine's wall clock (--clock-strategy system); it is restored at each heal".into());
        list.push(Box::new(faults::clock::SystemBump::new(args.clock_skew_ms)));
    } else if wants("clock") {
        if args.clock_strategy != "faketime" {
            return Err(bad(format!("unknown --clock-strategy `{}`: faketime or system", args.clock_strategy)));
        }
        match nemesis::clock::can_skew(program) {
            Ok(()) => {
                let mode = match args.clock_mode.as_str() {
                    "bump" => faults::clock::Mode::Bump,
                    "strobe" => faults::clock::Mode::Strobe,
                    _ => faults::clock::Mode::Mixed,
                };
                list.push(Box::new(faults::clock::Clock::new(args.clock_skew_ms, mode)))
            }
            Err(why) => notes.push(format!("clock faults not injected: {why}")),
        }
    }
    Ok((list, notes))
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
    if args.target != "bundled" && !args.bug.is_empty() {
        return Err(bad("--bug applies to the bundled target only"));
    }
    match args.target.as_str() {
        "etcd" => {
            let db = Etcd { binary: args.etcd_binary.clone(), cluster_token: String::new() };
            preflight(&args, db.program(), db.package())?;
            let (fault_list, notes) = build_faults(&args, db.program())?;
            run_with(args, fault_list, notes, |run| Etcd { cluster_token: format!("faultline-{run}"), ..db })
        }
        "bundled" => {
            for b in &args.bug {
                targets::kv::Bug::parse(b).map_err(bad)?;
            }
            let db = crate::targets::bundled::Bundled::new(args.bug.clone()).context("cannot find the faultline binary").map_err(internal)?;
            preflight(&args, db.program(), db.package())?;
            let (fault_list, notes) = build_faults(&args, db.program())?;
            run_with(args, fault_list, notes, |_| db)
        }
        other => Err(bad(format!("unknown target `{other}`; available: bundled, etcd"))),
    }
}

fn run_with<D: Db>(args: TestArgs, fault_list: Vec<Box<dyn Fault>>, notes: Vec<String>, make_db: impl FnOnce(&RunId) -> D) -> Result<i32, Failure> {
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
    for note in &notes {
        println!("note: {note}");
    }
    runtime.block_on(run_async(args, name, seed, run_id, db, run_dir, fault_list, notes))
}

#[allow(clippy::too_many_arguments)]
async fn run_async<D: Db>(
    args: TestArgs,
    name: String,
    seed: u64,
    run_id: RunId,
    db: D,
    run_dir: RunDir,
    fault_list: Vec<Box<dyn Fault>>,
    notes: Vec<String>,
) -> Result<i32, Failure> {
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

    let fault_names: Vec<&'static str> = fault_list.iter().map(|f| f.name()).collect();
    if fault_names.iter().any(|f| matches!(*f, "partition" | "loss" | "latency")) {
        cluster.install_fault_chains().map_err(internal)?;
    }
    if fault_names.contains(&"clock") {
        cluster.enable_clocks(&run_id).map_err(internal)?;
    }
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
    let cluster = Arc::new(std::sync::Mutex::new(cluster));
    let workload = drive(workers, generator, seed, history.clone(), counters.clone(), stop.clone(), start, timeout + Duration::from_secs(1));
    let interval = Duration::from_secs_f64(args.nemesis_interval);
    let nemesis = schedule::run(fault_list, interval, seed, &db, cluster.clone(), history.clone(), stop.clone(), start + limit);
    let both = async { tokio::join!(workload, nemesis) };
    match args.fail_after {
        Some(secs) => {
            tokio::select! {
                _ = both => {}
                _ = tokio::time::sleep(Duration::from_secs_f64(secs)) => panic!("injected failure (--fail-after {secs})"),
            }
        }
        None => {
            both.await;
        }
    }

    // Final phase: undo every fault, wait for the cluster to serve again, read every key once,
    // so the checker sees the end state.
    if !stop.is_set() {
        let recovered = cluster.lock().unwrap_or_else(|p| p.into_inner()).recover();
        let (value, ok) = match &recovered {
            Ok(done) => (serde_json::json!(done), true),
            Err(e) => (serde_json::json!({ "error": format!("{e:#}") }), false),
        };
        schedule::record(&history, "recover", value);
        let nodes = cluster.lock().unwrap_or_else(|p| p.into_inner()).nodes.clone();
        match Cluster::wait_ready(&nodes, &db, Duration::from_secs_f64(args.start_timeout)).await {
            Ok(took) if ok => println!("recovered: every node ready {:.2} s after the final heal", took.as_secs_f64()),
            Ok(_) => {}
            Err(e) => eprintln!("warning: {e:#}"),
        }
        final_reads(&db, &nodes, &history, &counters, &stop, start, timeout, args.concurrency, seed).await.map_err(internal)?;
    }
    progress_stop.set();
    let _ = progress_task.await;
    let workload_time = start.elapsed();

    let mut cluster = Arc::try_unwrap(cluster)
        .map_err(|_| internal(anyhow!("the cluster is still in use")))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
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
    let windows = schedule::availability(&history.ops);
    let results = RunResults {
        valid: if interrupted && result.valid == Validity::Valid { Validity::Unknown } else { result.valid },
        interrupted,
        duration_seconds: workload_time.as_secs_f64(),
        nemesis: serde_json::json!({ "faults": fault_names, "interval_seconds": args.nemesis_interval, "windows": windows, "notes": notes }),
        ops: serde_json::json!({
            "ok": ok, "fail": fail, "info": info,
            "keys": ok_per_key.len(),
            "ok_per_key_min": ok_per_key.first(), "ok_per_key_median": ok_per_key.get(ok_per_key.len() / 2), "ok_per_key_max": ok_per_key.last(),
        }),
        cluster: serde_json::json!({"start_seconds": start_time.as_secs_f64(), "teardown_seconds": teardown_time.as_secs_f64(), "teardown_problems": problems}),
        linearizable: result,
    };
    run_dir.write_json("results.json", &results).context("cannot write results.json").map_err(internal)?;

    if !windows.is_empty() {
        println!("faults: {} windows; ok rate during faults: {}", windows.len(), windows.iter().map(|w| w.success_rate.map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0))).collect::<Vec<_>>().join(" "));
    }
    println!("ok {ok}, fail {fail}, info {info} over {} keys (ok per key: median {})", ok_per_key.len(), ok_per_key.get(ok_per_key.len() / 2).copied().unwrap_or(0));
    print!("{}", crate::check_cmd::explain(&results.linearizable, &options));
    if interrupted {
        println!("interrupted: the verdict covers only what was recorded before the stop");
    }
    match report::render_run(&run_dir.path, &history) {
        Ok(path) => println!("report: {}", path.display()),
        Err(e) => eprintln!("warning: cannot write the report: {e}"),
    }
    if let Err(e) = report::index::write(&args.store) {
        eprintln!("warning: cannot write {}/index.html: {e}", args.store.display());
    }
    println!("results: {}", run_dir.path.display());
    Ok(match results.valid {
        Validity::Valid => exit_codes::VALID,
        Validity::Invalid => exit_codes::INVALID,
        Validity::Unknown => exit_codes::UNKNOWN,
    })
}

/// Reads every key the workload used, once, after the faults are healed.
#[allow(clippy::too_many_arguments)]
async fn final_reads<D: Db>(
    db: &D,
    nodes: &[crate::db::Node],
    history: &Arc<HistoryWriter>,
    counters: &Arc<Counters>,
    stop: &Arc<Stop>,
    start: Instant,
    timeout: Duration,
    concurrency: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let keys = history.keys();
    let mut next = 0usize;
    let reads: BoxGen = Box::new(move |_: &workloads::Context, _: &mut checkers::rng::Rng| match keys.get(next) {
        Some(key) => {
            next += 1;
            workloads::Next::Op(workloads::Invocation { f: "read".into(), key: Some(key.clone()), value: serde_json::Value::Null })
        }
        None => workloads::Next::Done,
    });
    let mut workers = Vec::new();
    for i in 0..concurrency.min(nodes.len()).max(1) {
        let node = &nodes[i % nodes.len()];
        workers.push(Worker { client: db.client(node, timeout)?, node: node.name.clone() });
    }
    drive(workers, reads, seed, history.clone(), counters.clone(), stop.clone(), start, timeout + Duration::from_secs(1)).await;
    Ok(())
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
        "faultline test --target {} --workload {} --nodes {} --concurrency {} --time-limit {} --rate {} --ops-per-key {} --nemesis {} --nemesis-interval {} --seed {seed}",
        args.target, args.workload, args.nodes, args.concurrency, args.time_limit, args.rate, args.ops_per_key, args.nemesis.join(","), args.nemesis_interval
    );
    for bug in &args.bug {
        cmd.push_str(&format!(" --bug {bug}"));
    }
    if let Some(name) = &args.name {
        cmd.push_str(&format!(" --name {name}"));
    }
    cmd
}
