//! Clock skew. Per node with libfaketime ([`crate::clock::ClockFile`]): each node's processes
//! read their offset from their own file, so rewriting it skews that node alone. Or the whole
//! machine's clock ([`SystemBump`], `--clock-strategy system`), for one node or real hosts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use history::faults::FaultStarted;
use history::Rng;
use serde_json::{json, Value};

use super::{names, ClockMode, ClusterControl, Fault, FaultContext, FaultError, NodeSelection};
use crate::clock::{ClockFile, SystemClock};

/// Skews the clocks of a minority of nodes by up to `max_ms` either way.
pub struct Clock {
    max_ms: i64,
    mode: ClockMode,
    files: Vec<ClockFile>,
    strobe: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Clock {
    /// A clock fault with offsets up to `max_ms`.
    pub fn new(max_ms: i64, mode: ClockMode) -> Clock {
        Clock { max_ms, mode, files: Vec::new(), strobe: None }
    }

    fn reset(&mut self) -> Result<bool, FaultError> {
        let mut was_skewed = false;
        if let Some((running, thread)) = self.strobe.take() {
            running.store(false, Ordering::Relaxed);
            let _ = thread.join();
            was_skewed = true;
        }
        for file in &self.files {
            was_skewed |= file.offset_ms().map_err(|e| FaultError::io("reading a clock file", e))? != 0;
            file.set_offset_ms(0).map_err(|e| FaultError::io("resetting a clock file", e))?;
        }
        Ok(was_skewed)
    }
}

impl Fault for Clock {
    fn name(&self) -> &'static str {
        "clock"
    }

    /// One clock file per node, and the environment that makes its processes read it.
    fn prepare(&mut self, cluster: &mut dyn ClusterControl) -> Result<(), FaultError> {
        let dir = cluster.scratch_dir();
        self.files.clear();
        for i in 0..cluster.nodes().len() {
            let path = dir.join(format!("{}.clock", cluster.nodes()[i].name));
            let file = ClockFile::create(&path).map_err(|e| FaultError::io(format!("creating {}", path.display()), e))?;
            cluster.add_env(i, file.env());
            self.files.push(file);
        }
        Ok(())
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let nodes = NodeSelection::Minority.choose(cluster.nodes().len(), &context.primaries, rng);
        let offsets: Vec<i64> = nodes.iter().map(|_| rng.below(2 * self.max_ms as u64 + 1) as i64 - self.max_ms).collect();
        let files: Vec<ClockFile> = nodes.iter().filter_map(|&i| self.files.get(i).cloned()).collect();
        let bump = match self.mode {
            ClockMode::Bump => true,
            ClockMode::Strobe => false,
            ClockMode::Mixed => rng.below(2) == 0,
        };
        if bump {
            for (file, ms) in files.iter().zip(&offsets) {
                file.set_offset_ms(*ms).map_err(|e| FaultError::io("writing a clock file", e))?;
            }
            return Ok(FaultStarted::new(names(cluster, &nodes), json!({ "mode": "bump", "offsets_ms": offsets })));
        }
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let strobe_offsets = offsets.clone();
        let thread = std::thread::spawn(move || {
            let mut on = false;
            while flag.load(Ordering::Relaxed) {
                on = !on;
                for (file, ms) in files.iter().zip(&strobe_offsets) {
                    let _ = file.set_offset_ms(if on { *ms } else { 0 });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        self.strobe = Some((running, thread));
        Ok(FaultStarted::new(names(cluster, &nodes), json!({ "mode": "strobe", "period_ms": 100, "offsets_ms": offsets })))
    }

    fn stop(&mut self, _cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        self.reset()?;
        Ok(json!("clocks reset"))
    }

    fn heal_all(&mut self, _cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        Ok(if self.reset()? { vec!["reset clocks".to_string()] } else { Vec::new() })
    }
}

/// Clock skew of the whole machine: a bump of the wall clock, undone at stop (and on drop,
/// whatever happens).
pub struct SystemBump {
    max_ms: i64,
    clock: SystemClock,
}

impl SystemBump {
    /// A system clock fault with offsets up to `max_ms`.
    pub fn new(max_ms: i64) -> SystemBump {
        SystemBump { max_ms, clock: SystemClock::default() }
    }
}

impl Fault for SystemBump {
    fn name(&self) -> &'static str {
        "clock"
    }

    /// The restore record goes in the run's scratch directory, where `faultline clean` looks.
    fn prepare(&mut self, cluster: &mut dyn ClusterControl) -> Result<(), FaultError> {
        self.clock = SystemClock::with_record(cluster.scratch_dir().join(crate::clock::SYSTEM_CLOCK_RECORD));
        Ok(())
    }

    fn start(&mut self, cluster: &mut dyn ClusterControl, _context: &FaultContext, rng: &mut Rng) -> Result<FaultStarted, FaultError> {
        let ms = rng.below(2 * self.max_ms as u64 + 1) as i64 - self.max_ms;
        self.clock.shift_ms(ms).map_err(|e| FaultError::io("clock_settime", e))?;
        let all: Vec<usize> = (0..cluster.nodes().len()).collect();
        Ok(FaultStarted::new(names(cluster, &all), json!({ "mode": "system-bump", "offset_ms": ms })))
    }

    fn stop(&mut self, _cluster: &mut dyn ClusterControl) -> Result<Value, FaultError> {
        let undone = self.clock.applied_ms();
        self.clock.restore().map_err(|e| FaultError::io("clock_settime", e))?;
        Ok(json!({ "restored_ms": -undone }))
    }

    fn heal_all(&mut self, _cluster: &mut dyn ClusterControl) -> Result<Vec<String>, FaultError> {
        let undone = self.clock.applied_ms();
        if undone == 0 {
            return Ok(Vec::new());
        }
        self.clock.restore().map_err(|e| FaultError::io("clock_settime", e))?;
        Ok(vec![format!("restored the system clock ({} ms)", -undone)])
    }
}
