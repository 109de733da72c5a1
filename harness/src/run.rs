//! One test as a function: [`run`] takes a configuration and a sink of [`RunEvent`]s, and
//! returns the run's record. It validates the configuration before any side effect, prepares
//! the machine, creates a run directory, starts the cluster, drives the workload while the
//! faults run, heals every fault, reads the end state, tears the cluster down, checks the
//! history, and writes `results.json` and the report. Everything it learns on the way is an
//! event: the console, the history file and (later) JUnit or a campaign listen to the same ones.
//!
//! Whatever happens — the end, an error, a panic, a signal — the cluster is torn down (its
//! `Drop`), faults are healed first when the run gets that far, and what was recorded is kept.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkers::availability::Availability;
use checkers::{CheckOptions, CheckResult, Checker, Compose};
use history::faults::{self, Event, Recovered};
use history::{Op, Process, Validity};
use nemesis::faults::ClusterControl;
use nemesis::{Fault, RunId};
use results::{ClusterRecord, FaultsRecord, HistoryFile, NodeRecord, OpCounts, RunDir, RunRecord, TestRecord};
use targets::{ClientOptions, Db, Node};
use tokio::sync::mpsc::UnboundedReceiver;
use workloads::generator::{stagger, time_limit};
use workloads::BoxGen;

use crate::cluster::Cluster;
use crate::config::{ConfigError, Plan, TestConfig};
use crate::schedule::{self, with_cluster, Timing};
use crate::signals::Interrupt;
use crate::workers::{drive, Counters, Recorder, Stop, Worker};

/// What happens during a run, in order.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// Missing system packages are being installed.
    Installing {
        /// The packages.
        packages: &'a [String],
    },
    /// The run directory exists; nothing runs yet.
    Started {
        /// The test's name.
        name: &'a str,
        /// The run's id.
        run_id: &'a str,
        /// Its seed.
        seed: u64,
        /// Its directory.
        dir: &'a Path,
        /// The target's name.
        target: &'a str,
        /// The configuration.
        config: &'a TestConfig,
    },
    /// Something worth saying before the verdict (a fault that cannot act on this target).
    Note(&'a str),
    /// Every node is ready.
    ClusterReady {
        /// How long the nodes took.
        took: Duration,
        /// The nodes.
        nodes: &'a [Node],
    },
    /// A client op was recorded (in history order, with its index and time).
    Op(&'a Op),
    /// A fault started or stopped (a nemesis op, in history order).
    Fault(&'a Op),
    /// Once a second during the workload.
    Progress {
        /// Time since the workload began.
        elapsed: Duration,
        /// The time limit.
        time_limit: Duration,
        /// Completions so far: ok, fail, info.
        counts: (u64, u64, u64),
    },
    /// Every fault was healed; `ready` is how long the nodes took to serve again (none if
    /// they did not).
    Recovered {
        /// What had to be done.
        record: &'a Recovered,
        /// How long until every node was ready again.
        ready: Option<Duration>,
    },
    /// Something went wrong that does not end the run.
    Warning(&'a str),
    /// The cluster is gone.
    TornDown {
        /// How long it took.
        took: Duration,
        /// Recorded ops.
        ops: usize,
        /// What could not be cleaned up.
        problems: &'a [String],
    },
    /// The checkers' verdict.
    Checked {
        /// Every checker's result.
        checks: &'a CheckResult,
        /// The run was stopped by a signal: the verdict covers only what was recorded.
        interrupted: bool,
    },
    /// The run is over and its files written.
    Finished {
        /// The record (results.json).
        record: &'a RunRecord,
        /// The run directory.
        dir: &'a Path,
        /// The report, if it could be written.
        report: Option<&'a Path>,
    },
}

/// Listens to a run. An error ends the workload (the run still heals, checks and reports).
pub trait EventSink {
    /// Takes one event.
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()>;
}

/// A sink that ignores everything.
pub struct Quiet;

impl EventSink for Quiet {
    fn event(&mut self, _: &RunEvent) -> std::io::Result<()> {
        Ok(())
    }
}

/// Why a run ended without a record.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A configuration value is not acceptable (nothing was done).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The machine lacks something (root, a program, a package that cannot be installed).
    #[error("{0}")]
    Environment(String),
    /// The cluster did not start: a node exited or was not ready in time (the target's binary,
    /// its configuration, or this machine: a port taken, …). The error names the node and
    /// shows the end of its log.
    #[error("{0:#}")]
    ClusterStart(anyhow::Error),
    /// A signal stopped the run before its workload began.
    #[error("interrupted by {0} before the workload began")]
    Interrupted(String),
    /// faultline or the cluster failed (a node that does not start, a file that cannot be
    /// written, …).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl RunError {
    /// A missing piece of the environment.
    pub fn environment(message: impl Into<String>) -> RunError {
        RunError::Environment(message.into())
    }
}

/// Runs one test. See the module documentation.
pub fn run(config: &TestConfig, sink: &mut dyn EventSink, interrupt: &Arc<Interrupt>) -> Result<RunRecord, RunError> {
    let plan = config.plan()?;
    crate::preflight::prepare(&plan, sink)?;
    if interrupt.requested() {
        return Err(RunError::Interrupted(interrupt.signal().unwrap_or("a signal").to_string()));
    }
    let store = &plan.config.store;
    let run_dir = RunDir::create(store, &plan.name)
        .map_err(|e| RunError::environment(format!("cannot create a run directory under {}: {e}", store.display())))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Internal(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_async(plan, RunId::fresh(), run_dir, sink, interrupt.clone()))
}

fn internal(e: impl Into<anyhow::Error>) -> RunError {
    RunError::Internal(e.into())
}

async fn run_async(
    plan: Plan,
    run_id: RunId,
    run_dir: RunDir,
    sink: &mut dyn EventSink,
    interrupt: Arc<Interrupt>,
) -> Result<RunRecord, RunError> {
    let Plan { config, name, seed, db, target_name, workload, faults, notes, .. } = plan;
    let timeouts = (plan.time_limit, plan.request_timeout, plan.check_timeout, plan.start_timeout);
    let (time_limit_d, request_timeout, check_timeout, start_timeout) = timeouts;
    let db: Arc<dyn Db> = Arc::from(db);
    let _ = sink.event(&RunEvent::Started {
        name: &name,
        run_id: run_id.as_str(),
        seed,
        dir: &run_dir.path,
        target: &target_name,
        config: &config,
    });
    // A target read from a file is kept with the run, so that `--replay` runs what ran.
    if let Some(text) = db.definition() {
        std::fs::write(run_dir.path.join(targets::spec::SPEC_COPY), text)
            .map_err(|e| internal(anyhow::anyhow!("cannot keep the target's spec in the run directory: {e}")))?;
    }
    for note in &notes {
        let _ = sink.event(&RunEvent::Note(note));
    }
    let stop = Arc::new(Stop::default());
    let watcher = {
        let (interrupt, stop) = (interrupt.clone(), stop.clone());
        tokio::spawn(async move {
            interrupt.wait_for(1).await;
            stop.set();
        })
    };
    let _abort_watcher = AbortOnDrop(watcher);

    let mut cluster = Cluster::create(run_id.clone(), config.nodes, &run_dir.path).map_err(internal)?;
    let test = TestRecord {
        name: name.clone(),
        run_id: run_id.as_str().to_string(),
        seed,
        started: run_dir.started.clone(),
        rerun: config.rerun_command(),
        faultline_version: env!("CARGO_PKG_VERSION").to_string(),
        target_version: db.version(),
        nodes: cluster
            .nodes
            .iter()
            .map(|n| NodeRecord { name: n.name.clone(), ip: n.ip.to_string(), namespace: n.namespace.clone() })
            .collect(),
        notes: notes.clone(),
        config: config.clone(),
    };
    run_dir.write_json("test.json", &test).map_err(|e| internal(anyhow::anyhow!("cannot write test.json: {e}")))?;

    let mut faults = faults;
    for fault in &mut faults {
        fault.prepare(&mut cluster).map_err(|e| internal(anyhow::anyhow!("cannot prepare the {} fault: {e}", fault.name())))?;
    }
    let start_time = match cluster.start_all(db.as_ref(), start_timeout, || stop.is_set()).await {
        Ok(took) => took,
        Err(_) if interrupt.requested() => return Err(RunError::Interrupted(interrupt.signal().unwrap_or("a signal").to_string())),
        Err(e) => return Err(RunError::ClusterStart(e)),
    };
    db.setup(&cluster.nodes).await.map_err(|e| RunError::ClusterStart(e.into()))?;
    let _ = sink.event(&RunEvent::ClusterReady { took: start_time, nodes: &cluster.nodes });

    let client_options = ClientOptions { timeout: request_timeout };
    let workers = |count: usize, nodes: &[Node]| -> Result<Vec<Worker>, RunError> {
        (0..count)
            .map(|i| {
                let node = &nodes[i % nodes.len()];
                let client = workload.wrap_client(db.client(workload.as_ref(), node, &client_options).map_err(internal)?);
                Ok(Worker { client, node: node.name.clone() })
            })
            .collect()
    };
    let main_workers = workers(config.concurrency, &cluster.nodes)?;
    let nodes = cluster.nodes.clone();

    let start = Instant::now();
    let (recorder, rx) = Recorder::new(start);
    let recorder = Arc::new(recorder);
    let file = HistoryFile::create(&run_dir.path.join("history.jsonl"))
        .map_err(|e| internal(anyhow::anyhow!("cannot create history.jsonl: {e}")))?;
    let counters = Arc::new(Counters::default());
    let mut pump =
        Pump { rx, file, sink, incomplete: None, stop: stop.clone(), counters: counters.clone(), start, time_limit: time_limit_d };

    let generator: BoxGen = {
        let ops = workload.generator();
        let paced = if config.rate > 0.0 { stagger(config.rate, ops) } else { ops };
        time_limit(time_limit_d, paced)
    };
    let cluster = Arc::new(Mutex::new(cluster));
    let deadline = workload.op_time(request_timeout);
    let workload_task = tokio::spawn(drive(main_workers, generator, seed, recorder.clone(), counters.clone(), stop.clone(), deadline));
    let timing = Timing { interval: plan.nemesis_interval, duration: plan.fault_duration, end: start + time_limit_d };
    let nemesis_task = tokio::spawn(schedule::run(faults, timing, seed, db.clone(), cluster.clone(), recorder.clone(), stop.clone()));
    let main_phase = async {
        let (w, n) = tokio::join!(workload_task, nemesis_task);
        if let Err(e) = w {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        match n {
            Ok(faults) => faults,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the fault schedule was cancelled: {e}"),
        }
    };
    let faults = match plan.fail_after {
        Some(after) => {
            pump.run_until(async {
                tokio::select! {
                    faults = main_phase => faults,
                    _ = tokio::time::sleep(after) => panic!("injected failure (--fail-after {} s)", after.as_secs_f64()),
                }
            })
            .await
        }
        None => pump.run_until(main_phase).await,
    };

    // Final phase: undo every fault, wait for the cluster to serve again, read the end state.
    let mut problems = Vec::new();
    if !stop.is_set() {
        let recovered = heal(faults, &cluster).await;
        recorder.record(faults::op(Event::Recover, serde_json::to_value(&recovered).unwrap_or_default()));
        pump.sync();
        problems.extend(recovered.errors.iter().cloned());
        // Any signal stops the wait at once (the run still cleans up).
        let ready = tokio::select! {
            ready = Cluster::wait_ready(&nodes, db.as_ref(), start_timeout) => ready.map_err(|e| e.to_string()),
            _ = interrupt.wait_for(1) => Err("interrupted while waiting for the nodes to recover".to_string()),
        };
        let _ = pump.sink.event(&RunEvent::Recovered { record: &recovered, ready: ready.as_ref().ok().copied() });
        if let Err(e) = &ready {
            let _ = pump.sink.event(&RunEvent::Warning(e));
        }
        if !stop.is_set() {
            if let Some(reads) = workload.final_generator(&recorder.keys()) {
                let final_workers = workers(config.concurrency.min(nodes.len()).max(1), &nodes)?;
                pump.run_until(drive(final_workers, reads, seed, recorder.clone(), counters.clone(), stop.clone(), deadline)).await;
            }
        }
    } else {
        // Stopped early: still undo every fault before the teardown, so nothing is left paused
        // or skewed even for a moment longer than needed.
        let recovered = heal(faults, &cluster).await;
        recorder.record(faults::op(Event::Recover, serde_json::to_value(&recovered).unwrap_or_default()));
        pump.drain();
    }
    let workload_time = start.elapsed();
    pump.finish();

    let mut cluster = Arc::try_unwrap(cluster)
        .map_err(|_| internal(anyhow::anyhow!("the cluster is still in use")))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let log_problems = cluster.collect_logs(db.as_ref());
    let (teardown_time, mut teardown_problems) = cluster.teardown();
    teardown_problems.extend(log_problems);
    drop(cluster);
    let history_path = run_dir.path.join("history.jsonl");
    let history = recorder.take_history(&history_path.display().to_string());
    let interrupted = interrupt.requested();
    let _ = pump.sink.event(&RunEvent::TornDown { took: teardown_time, ops: history.ops.len(), problems: &teardown_problems });

    let mut checkers = workload.checkers();
    checkers.push(Box::new(Availability));
    // A further signal while checking stops the check (its answer is then unknown).
    let stop_check = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let check_watcher = {
        let (interrupt, flag) = (interrupt.clone(), stop_check.clone());
        let already = if interrupted { 2 } else { 1 };
        tokio::spawn(async move {
            interrupt.wait_for(already).await;
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    let _abort_check_watcher = AbortOnDrop(check_watcher);
    let options = CheckOptions { timeout: Some(check_timeout), all_keys: true, interrupt: Some(stop_check), ..CheckOptions::default() };
    let checks =
        Compose(checkers).check(&history, &options).map_err(|e| internal(anyhow::anyhow!("the recorded history is malformed: {e}")))?;
    let _ = pump.sink.event(&RunEvent::Checked { checks: &checks, interrupted });

    let valid = if (interrupted || !problems.is_empty()) && checks.valid == Validity::Valid { Validity::Unknown } else { checks.valid };
    let mut fault_notes = notes;
    fault_notes.extend(problems.iter().map(|p| format!("recovery: {p}")));
    let record = RunRecord {
        valid,
        interrupted,
        history_incomplete: pump.incomplete.clone(),
        duration_seconds: workload_time.as_secs_f64(),
        faults: FaultsRecord {
            kinds: config.fault_kinds().unwrap_or_default().iter().map(|k| k.name().to_string()).collect(),
            interval_seconds: config.nemesis_interval,
            duration_seconds: plan.fault_duration.as_secs_f64(),
            notes: fault_notes,
        },
        ops: OpCounts::of(&history),
        cluster: ClusterRecord {
            start_seconds: start_time.as_secs_f64(),
            teardown_seconds: teardown_time.as_secs_f64(),
            teardown_problems,
        },
        checks,
    };
    if let Err(e) = run_dir.write_json("results.json", &record) {
        let _ = pump.sink.event(&RunEvent::Warning(&format!("cannot write results.json: {e}")));
    }
    let report: Option<PathBuf> = match report::render_run(&run_dir.path, &history) {
        Ok(path) => Some(path),
        Err(e) => {
            let _ = pump.sink.event(&RunEvent::Warning(&format!("cannot write the report: {e}")));
            None
        }
    };
    if let Err(e) = report::index::write(&config.store) {
        let _ = pump.sink.event(&RunEvent::Warning(&format!("cannot write {}/index.html: {e}", config.store.display())));
    }
    let _ = pump.sink.event(&RunEvent::Finished { record: &record, dir: &run_dir.path, report: report.as_deref() });
    Ok(record)
}

/// Heals every fault, then restarts nodes that are down for any other reason (they crashed on
/// their own: said so). Errors are collected, not fatal.
async fn heal(faults: Vec<Box<dyn Fault>>, cluster: &Arc<Mutex<Cluster>>) -> Recovered {
    let mut recovered = Recovered::default();
    for fault in faults {
        let name = fault.name();
        let (_, result) = with_cluster(cluster, fault, |c, f| f.heal_all(c)).await;
        match result {
            Ok(actions) => recovered.actions.extend(actions),
            Err(e) => recovered.errors.push(format!("{name}: {e}")),
        }
    }
    let cluster = cluster.clone();
    let restarted = tokio::task::spawn_blocking(move || {
        let mut c = cluster.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for i in 0..c.nodes.len() {
            if !c.is_running(i) {
                let name = c.nodes[i].name.clone();
                out.push(c.restart(i).map(|_| format!("restarted {name}, which had exited on its own")).map_err(|e| e.to_string()));
            }
        }
        out
    })
    .await
    .unwrap_or_default();
    for r in restarted {
        match r {
            Ok(action) => recovered.actions.push(action),
            Err(e) => recovered.errors.push(e),
        }
    }
    recovered
}

/// Carries recorded ops from the recorder to the history file and the sink, in order, while a
/// phase of the run goes on; flushes the file and reports progress every second. The first
/// write error stops the workload (the run goes on to heal and check the history in memory).
struct Pump<'s> {
    rx: UnboundedReceiver<Op>,
    file: HistoryFile,
    sink: &'s mut dyn EventSink,
    incomplete: Option<String>,
    stop: Arc<Stop>,
    counters: Arc<Counters>,
    start: Instant,
    time_limit: Duration,
}

impl Pump<'_> {
    async fn run_until<F: Future>(&mut self, phase: F) -> F::Output {
        tokio::pin!(phase);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
        loop {
            tokio::select! {
                biased;
                out = &mut phase => {
                    self.drain();
                    return out;
                }
                Some(op) = self.rx.recv() => self.deliver(op),
                _ = tick.tick() => self.progress(),
            }
        }
    }

    fn deliver(&mut self, op: Op) {
        if self.incomplete.is_none() {
            if let Err(e) = self.file.append(&op) {
                self.failed(format!("writing {} failed at line {}: {e}", self.file.path().display(), self.file.lines() + 1));
            }
        }
        let event = if op.process == Process::Nemesis { RunEvent::Fault(&op) } else { RunEvent::Op(&op) };
        if let Err(e) = self.sink.event(&event) {
            self.failed(format!("an event sink failed: {e}"));
        }
    }

    fn failed(&mut self, why: String) {
        let _ = self
            .sink
            .event(&RunEvent::Warning(&format!("{why}; stopping the workload (the history stays in memory and is still checked)")));
        self.incomplete.get_or_insert(why);
        self.stop.set();
    }

    fn progress(&mut self) {
        if self.incomplete.is_none() {
            if let Err(e) = self.file.flush() {
                self.failed(format!("flushing {} failed: {e}", self.file.path().display()));
            }
        }
        let event = RunEvent::Progress { elapsed: self.start.elapsed(), time_limit: self.time_limit, counts: self.counters.snapshot() };
        let _ = self.sink.event(&event);
    }

    fn drain(&mut self) {
        while let Ok(op) = self.rx.try_recv() {
            self.deliver(op);
        }
    }

    /// Delivers what is recorded and flushes the file (at the end of a phase).
    fn sync(&mut self) {
        self.drain();
        if self.incomplete.is_none() {
            if let Err(e) = self.file.flush() {
                self.failed(format!("flushing {} failed: {e}", self.file.path().display()));
            }
        }
    }

    fn finish(&mut self) {
        self.drain();
        if self.incomplete.is_none() {
            if let Err(e) = self.file.flush() {
                self.incomplete = Some(format!("flushing {} failed: {e}", self.file.path().display()));
            }
        }
    }
}

/// Aborts a task when dropped (the signal watcher must not outlive its run).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
