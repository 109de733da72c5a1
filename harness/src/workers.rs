//! Drives the workload: one worker per client, each asking the shared generator for its next
//! operation, recording the invoke, calling its client (bounded by a deadline) and recording
//! the completion. After an `info` completion the worker continues under a fresh process id (the
//! old one may still be in flight forever), as Jepsen does.
//!
//! Every op goes through the [`Recorder`], which stamps its index and time under one lock and
//! passes it on, in that order, to the run's event loop (history file, console).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use history::{History, Key, Op, OpType, Process, Rng};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;
use workloads::{BoxGen, Client, Completion, Context, Next};

/// Asks everything to stop (signals, the test's end, a failed history write); cheap to check.
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

/// Live counts, for the progress line.
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
    /// (ok, fail, info) now.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (self.ok.load(Ordering::Relaxed), self.fail.load(Ordering::Relaxed), self.info.load(Ordering::Relaxed))
    }
}

/// The history of a running test, in memory, and the channel that carries each op on.
pub struct Recorder {
    start: Instant,
    inner: Mutex<(Vec<Op>, UnboundedSender<Op>)>,
}

impl Recorder {
    /// A recorder whose times count from `start`, and the receiving end of its ops.
    pub fn new(start: Instant) -> (Recorder, UnboundedReceiver<Op>) {
        let (tx, rx) = unbounded_channel();
        (Recorder { start, inner: Mutex::new((Vec::new(), tx)) }, rx)
    }

    /// Stamps `op` with the next index and the time now, keeps it, passes it on, returns it.
    pub fn record(&self, mut op: Op) -> Op {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        op.index = inner.0.len() as u64;
        op.time = self.start.elapsed().as_nanos() as u64;
        inner.0.push(op.clone());
        // The receiver lives as long as the run; if it is gone the op is still kept here.
        let _ = inner.1.send(op.clone());
        op
    }

    /// When the test started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The keys of the client ops recorded so far, in first-use order.
    pub fn keys(&self) -> Vec<Key> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = std::collections::BTreeSet::new();
        inner.0.iter().filter(|o| o.is_client()).filter_map(|o| o.key.clone()).filter(|k| seen.insert(k.clone())).collect()
    }

    /// Takes the history recorded so far, named `source` (the end of a run: nothing is
    /// recorded after it).
    pub fn take_history(&self, source: &str) -> History {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        History::from_ops(source, std::mem::take(&mut inner.0))
    }
}

/// One client per worker, with the name of the node it talks to.
pub struct Worker {
    /// The client.
    pub client: Box<dyn Client>,
    /// Its node's name (recorded in every op).
    pub node: String,
}

struct Shared {
    generator: Mutex<(BoxGen, Rng)>,
    recorder: Arc<Recorder>,
    counters: Arc<Counters>,
    stop: Arc<Stop>,
    concurrency: usize,
    /// A client that has not answered by then is abandoned and its op recorded as `info`.
    deadline: Duration,
}

/// Runs the workers until the generator is done or `stop` is set. Every random choice is
/// drawn from one `Rng` seeded with `seed`, under the generator's lock: the sequence of
/// operations depends on the seed alone.
pub async fn drive(
    workers: Vec<Worker>,
    generator: BoxGen,
    seed: u64,
    recorder: Arc<Recorder>,
    counters: Arc<Counters>,
    stop: Arc<Stop>,
    deadline: Duration,
) {
    let shared = Arc::new(Shared {
        generator: Mutex::new((generator, Rng::new(seed))),
        recorder,
        counters,
        stop,
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

async fn run_worker(id: usize, mut worker: Worker, shared: Arc<Shared>) {
    let mut process = id as u64;
    loop {
        if shared.stop.is_set() {
            return;
        }
        let op = |invocation: &workloads::Invocation, kind, value, error: Option<String>| Op {
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
        let next = {
            let mut guard = shared.generator.lock().unwrap_or_else(|p| p.into_inner());
            let (generator, rng) = &mut *guard;
            let next = generator.next(&Context { elapsed: shared.recorder.start().elapsed(), worker: id }, rng);
            // The invoke is recorded while the generator is held: the history's invokes are in
            // the order they were drawn, which the seed alone decides.
            if let Next::Op(invocation) = &next {
                shared.recorder.record(op(invocation, OpType::Invoke, invocation.value.clone(), None));
            }
            next
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
        let op = |kind, value, error| op(&invocation, kind, value, error);
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
                shared.recorder.record(op(OpType::Ok, value, None));
            }
            Completion::Fail(error) => {
                counters.fail.fetch_add(1, Ordering::Relaxed);
                shared.recorder.record(op(OpType::Fail, invocation.value.clone(), Some(error)));
            }
            Completion::Info(error) => {
                counters.info.fetch_add(1, Ordering::Relaxed);
                shared.recorder.record(op(OpType::Info, invocation.value.clone(), Some(error)));
                process += shared.concurrency as u64;
            }
        }
    }
}
