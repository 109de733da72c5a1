//! When faults happen: quiet for an interval, one fault (drawn with the seed) for its duration,
//! its undo, and so on until the workload ends. Every start and stop is a nemesis op in the
//! history ([`history::faults`]) saying exactly what was done and who led at the time. Fault
//! actions run on a blocking thread: they run commands and send signals.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use history::faults::{self, Event, FaultStarted, FaultStopped};
use history::Rng;
use nemesis::{Fault, FaultContext};
use targets::{Db, Node};

use crate::cluster::Cluster;
use crate::workers::{Recorder, Stop};

/// Mixed into the seed so faults and operations draw from different streams.
const NEMESIS_SALT: u64 = 0x006E_656D_6573_6973;

/// The schedule's timing.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Quiet time before each fault.
    pub interval: Duration,
    /// How long each fault lasts.
    pub duration: Duration,
    /// No fault starts unless half its duration fits before this.
    pub end: Instant,
}

/// Runs `action` on the cluster on a blocking thread, handing the fault back with the result.
pub async fn with_cluster<T: Send + 'static>(
    cluster: &Arc<Mutex<Cluster>>,
    fault: Box<dyn Fault>,
    action: impl FnOnce(&mut Cluster, &mut dyn Fault) -> T + Send + 'static,
) -> (Box<dyn Fault>, T) {
    let cluster = cluster.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut fault = fault;
        let mut guard = cluster.lock().unwrap_or_else(|p| p.into_inner());
        let out = action(&mut guard, fault.as_mut());
        (fault, out)
    })
    .await;
    match joined {
        Ok((fault, out)) => (fault, out),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("a fault's thread was cancelled: {e}"),
    }
}

/// Runs faults until `timing.end` or `stop`, always undoing the active one before returning.
/// Hands the faults back, for the final heal.
pub async fn run(
    mut faults: Vec<Box<dyn Fault>>,
    timing: Timing,
    seed: u64,
    db: Arc<dyn Db>,
    cluster: Arc<Mutex<Cluster>>,
    recorder: Arc<Recorder>,
    stop: Arc<Stop>,
) -> Vec<Box<dyn Fault>> {
    if faults.is_empty() {
        return faults;
    }
    let mut rng = Rng::new(seed ^ NEMESIS_SALT);
    let pause = |d: Duration| {
        let stop = stop.clone();
        async move {
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = stop.wait() => {}
            }
        }
    };
    let nodes: Vec<Node> = cluster.lock().unwrap_or_else(|p| p.into_inner()).nodes.clone();
    let names = |indices: &[usize]| -> Vec<String> { indices.iter().filter_map(|&i| nodes.get(i)).map(|n| n.name.clone()).collect() };
    loop {
        pause(timing.interval.min(timing.end.saturating_duration_since(Instant::now()))).await;
        if stop.is_set() || Instant::now() + timing.duration / 2 >= timing.end {
            return faults;
        }
        let i = rng.below(faults.len() as u64) as usize;
        let primaries = db.primaries(&nodes).await;
        let context = FaultContext { primaries: primaries.clone() };
        let fault = faults.remove(i);
        let name = fault.name();
        let mut fault_rng = rng.clone();
        let (fault, started) = with_cluster(&cluster, fault, move |c, f| {
            let r = f.start(c, &context, &mut fault_rng);
            (r, fault_rng)
        })
        .await;
        faults.insert(i, fault);
        let (started, next_rng) = started;
        rng = next_rng;
        let mut record = started.unwrap_or_else(|e| FaultStarted { error: Some(e.to_string()), ..FaultStarted::default() });
        record.leaders = names(&primaries);
        recorder.record(faults::op(Event::Start(name), serde_json::to_value(&record).unwrap_or_default()));

        pause(timing.duration.min(timing.end.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)))).await;
        // Who leads just before the heal: shows whether the system moved on (a new leader on the
        // majority side of a partition).
        let leaders_before_heal = names(&db.primaries(&nodes).await);
        let fault = faults.remove(i);
        let (fault, stopped) = with_cluster(&cluster, fault, |c, f| f.stop(c)).await;
        faults.insert(i, fault);
        let record = match stopped {
            Ok(undone) => FaultStopped { undone, leaders_before_heal, error: None },
            Err(e) => FaultStopped { undone: serde_json::Value::Null, leaders_before_heal, error: Some(e.to_string()) },
        };
        recorder.record(faults::op(Event::Stop(name), serde_json::to_value(&record).unwrap_or_default()));
    }
}
