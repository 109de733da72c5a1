//! Clock skew per node through libfaketime: bump (a fixed offset) or strobe (swinging between
//! an offset and none every few milliseconds, from a background thread), reset at stop. Only for
//! targets whose binary libfaketime can affect (see `nemesis::clock::can_skew`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use checkers::rng::Rng;
use nemesis::clock::ClockFile;
use serde_json::{json, Value};

use super::{names, Fault, Targets};
use crate::cluster::Cluster;

/// How the clocks move during a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One jump at the start, and back at the heal.
    Bump,
    /// Back and forth between the offset and none every 50 ms: every other step is a jump
    /// backwards, which is what breaks clock-based leases.
    Strobe,
    /// Either, at random per fault.
    Mixed,
}

/// Skews the clocks of some nodes by up to `max_ms` either way.
pub struct Clock {
    /// Largest offset, in milliseconds.
    pub max_ms: i64,
    mode: Mode,
    strobe: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Clock {
    /// A clock fault with offsets up to `max_ms`.
    pub fn new(max_ms: i64, mode: Mode) -> Clock {
        Clock { max_ms, mode, strobe: None }
    }
}

impl Fault for Clock {
    fn name(&self) -> &'static str {
        "clock"
    }

    fn start(&mut self, cluster: &mut Cluster, primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        let nodes = Targets::Minority.choose(cluster.nodes.len(), primaries, rng);
        let offsets: Vec<i64> = nodes.iter().map(|_| rng.below(2 * self.max_ms as u64 + 1) as i64 - self.max_ms).collect();
        let files: Vec<ClockFile> = nodes.iter().map(|&i| cluster.clocks()[i].clone()).collect();
        let bump = match self.mode {
            Mode::Bump => true,
            Mode::Strobe => false,
            Mode::Mixed => rng.below(2) == 0,
        };
        if bump {
            for (file, ms) in files.iter().zip(&offsets) {
                file.set_offset_ms(*ms)?;
            }
            return Ok(json!({ "mode": "bump", "nodes": names(cluster, &nodes), "offsets_ms": offsets }));
        }
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let (files_t, offsets_t) = (files.clone(), offsets.clone());
        let thread = std::thread::spawn(move || {
            let mut on = false;
            while flag.load(Ordering::Relaxed) {
                on = !on;
                for (file, ms) in files_t.iter().zip(&offsets_t) {
                    let _ = file.set_offset_ms(if on { *ms } else { 0 });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        self.strobe = Some((running, thread));
        Ok(json!({ "mode": "strobe", "period_ms": 100, "nodes": names(cluster, &nodes), "offsets_ms": offsets }))
    }

    fn stop(&mut self, cluster: &mut Cluster) -> anyhow::Result<Value> {
        if let Some((running, thread)) = self.strobe.take() {
            running.store(false, Ordering::Relaxed);
            let _ = thread.join();
        }
        for file in cluster.clocks() {
            file.set_offset_ms(0)?;
        }
        Ok(json!("clocks reset"))
    }
}

/// Clock skew of the whole machine (`--clock-strategy system`): a bump of the wall clock,
/// undone at stop (and on drop, whatever happens).
pub struct SystemBump {
    /// Largest offset, in milliseconds.
    pub max_ms: i64,
    clock: nemesis::clock::SystemClock,
}

impl SystemBump {
    /// A system clock fault with offsets up to `max_ms`.
    pub fn new(max_ms: i64) -> SystemBump {
        SystemBump { max_ms, clock: Default::default() }
    }
}

impl Fault for SystemBump {
    fn name(&self) -> &'static str {
        "clock"
    }

    fn start(&mut self, cluster: &mut Cluster, _primaries: &[usize], rng: &mut Rng) -> anyhow::Result<Value> {
        let ms = rng.below(2 * self.max_ms as u64 + 1) as i64 - self.max_ms;
        self.clock.shift_ms(ms)?;
        let all: Vec<usize> = (0..cluster.nodes.len()).collect();
        Ok(json!({ "mode": "system-bump", "offset_ms": ms, "nodes": names(cluster, &all) }))
    }

    fn stop(&mut self, _cluster: &mut Cluster) -> anyhow::Result<Value> {
        let undone = self.clock.applied_ms();
        self.clock.restore()?;
        Ok(json!({ "restored_ms": -undone }))
    }
}
