//! Drives the workload: one worker per client, each asking the shared generator for its next
//! operation, recording the invoke, calling its client (bounded by a timeout) and recording the
//! completion. After an `info` completion the worker continues under a fresh process id (the old
//! one may still be in flight forever), as Jepsen does.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkers::history::{Op, OpType, Process};
use checkers::rng::Rng;
use results::HistoryWriter;
use tokio::sync::Notify;
use workloads::generator::BoxGen;
use workloads::{Client, Completion, Context, Next};

/// Asks everything to stop (signals, the test's end); cheap to check.
#[derive(Default)]
pub struct Stop {
    flag: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// Stops everyone.
    pub fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether stop was asked.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Waits until stop is asked.
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// Live counts, for the progress line and the summary.
#[derive(Default, Debug)]
pub struct Counters {
    /// Completed ok.
    pub ok: AtomicU64,
    /// Definitely failed.
    pub fail: AtomicU64,
    /// Indeterminate.
    pub info: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> (u64, u64, u64) {
        (self.ok.load(Ordering::Relaxed), self.fail.load(Ordering::Relaxed), self.info.load(Ordering::Relaxed))
    }
}

struct Shared {
    generator: Mutex<(BoxGen, Rng)>,
    history: Arc<HistoryWriter>,
    counters: Arc<Counters>,
    stop: Arc<Stop>,
    start: Instant,
    concurrency: usize,
    /// A client that has not answered by then is abandoned and its op recorded as `info`.
    deadline: Duration,
}

/// One client per worker, with the name of the node it talks to.
pub struct Worker<C> {
    /// The client.
    pub client: C,
    /// Its node's name (recorded in every op).
    pub node: String,
}

/// Runs the workers until the generator is done or `stop` is set.
pub async fn drive<C: Client>(
    workers: Vec<Worker<C>>,
    generator: BoxGen,
    seed: u64,
    history: Arc<HistoryWriter>,
    counters: Arc<Counters>,
    stop: Arc<Stop>,
    start: Instant,
    deadline: Duration,
) {
    let shared = Arc::new(Shared {
        generator: Mutex::new((generator, Rng::new(seed))),
        history,
        counters,
        stop,
        start,
        concurrency: workers.len(),
        deadline,
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (id, worker) in workers.into_iter().enumerate() {
        tasks.spawn(run_worker(id, worker, shared.clone()));
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

async fn run_worker<C: Client>(id: usize, mut worker: Worker<C>, shared: Arc<Shared>) {
    let mut process = id as u64;
    loop {
        if shared.stop.is_set() {
            return;
        }
        let next = {
            let mut guard = shared.generator.lock().unwrap_or_else(|p| p.into_inner());
            let (generator, rng) = &mut *guard;
            generator.next(&Context { elapsed: shared.start.elapsed(), worker: id }, rng)
        };
        let invocation = match next {
            Next::Done => return,
            Next::Wait(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(d.min(Duration::from_millis(50))) => {}
                    _ = shared.stop.wait() => return,
                }
                continue;
            }
            Next::Op(op) => op,
        };
        let op = |kind, value, error: Option<String>| Op {
            index: 0,
            kind,
            process: Process::Client(process),
            f: invocation.f.clone(),
            key: invocation.key.clone(),
            value,
            time: 0,
            node: Some(worker.node.clone()),
            error: error.map(serde_json::Value::String),
        };
        shared.history.record(op(OpType::Invoke, invocation.value.clone(), None));
        let completion = tokio::select! {
            c = tokio::time::timeout(shared.deadline, worker.client.invoke(&invocation)) => {
                c.unwrap_or_else(|_| Completion::Info("timeout (client did not answer)".into()))
            }
            // Stopped mid-flight: the op stays without a completion, which means indeterminate.
            _ = shared.stop.wait() => return,
        };
        let counters = &shared.counters;
        match completion {
            Completion::Ok(value) => {
                counters.ok.fetch_add(1, Ordering::Relaxed);
                shared.history.record(op(OpType::Ok, value, None));
            }
            Completion::Fail(error) => {
                counters.fail.fetch_add(1, Ordering::Relaxed);
                shared.history.record(op(OpType::Fail, invocation.value.clone(), Some(error)));
            }
            Completion::Info(error) => {
                counters.info.fetch_add(1, Ordering::Relaxed);
                shared.history.record(op(OpType::Info, invocation.value.clone(), Some(error)));
                process += shared.concurrency as u64;
            }
        }
    }
}

/// Shows progress every second until `stop`: a bar on a terminal, a plain line every 5 s
/// otherwise (CI). Also flushes the history file every second.
pub async fn progress(history: Arc<HistoryWriter>, counters: Arc<Counters>, stop: Arc<Stop>, start: Instant, time_limit: Duration) {
    let tty = std::io::stdout().is_terminal();
    let bar = tty.then(|| {
        let bar = indicatif::ProgressBar::new(time_limit.as_secs().max(1));
        if let Ok(style) = indicatif::ProgressStyle::with_template("{elapsed:>4} / {len}s [{bar:30}] {msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait() => break,
        }
        ticks += 1;
        history.flush();
        let (ok, fail, info) = counters.snapshot();
        let elapsed = start.elapsed().as_secs();
        let line = format!("ok {ok}  fail {fail}  info {info}  ({} ops/s)", (ok + fail + info) / elapsed.max(1));
        match &bar {
            Some(bar) => {
                bar.set_position(elapsed.min(time_limit.as_secs()));
                bar.set_message(line);
            }
            None if ticks % 5 == 0 => println!("[{elapsed:>4}s / {}s] {line}", time_limit.as_secs()),
            None => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
