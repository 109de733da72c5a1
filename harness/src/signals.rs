//! SIGINT and SIGTERM as data: a process-wide [`Interrupt`] that a run (or a campaign of runs)
//! watches. The first signal asks to stop and clean up; a second one asks to stop waiting for
//! anything that can be skipped (a node that does not come back), still cleaning up.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Signals received, and a way to wait for them.
#[derive(Default)]
pub struct Interrupt {
    count: AtomicU32,
    last: Mutex<Option<&'static str>>,
    notify: Notify,
}

impl Interrupt {
    /// Catches SIGINT and SIGTERM for the rest of the process's life (a thread of its own, so
    /// that no signal is swallowed between runs).
    pub fn install() -> std::io::Result<Arc<Interrupt>> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let interrupt = Arc::new(Interrupt::default());
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let target = interrupt.clone();
        std::thread::Builder::new().name("signals".into()).spawn(move || {
            for signal in signals.forever() {
                target.raise(if signal == SIGTERM { "SIGTERM" } else { "SIGINT" });
            }
        })?;
        Ok(interrupt)
    }

    /// One that no signal reaches (benchmarks, tests of the runner).
    pub fn none() -> Arc<Interrupt> {
        Arc::new(Interrupt::default())
    }

    /// Records a signal, as if it had arrived.
    pub fn raise(&self, name: &'static str) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(name);
        }
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let what = if n == 1 { "stopping and cleaning up" } else { "not waiting any longer; cleaning up" };
        eprintln!("faultline: {name}: {what}");
        self.notify.notify_waiters();
    }

    /// Whether a stop was asked.
    pub fn requested(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }

    /// Whether a second signal asked not to wait.
    pub fn hurried(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 1
    }

    /// The last signal's name.
    pub fn signal(&self) -> Option<&'static str> {
        self.last.lock().ok().and_then(|l| *l)
    }

    /// Returns once at least `count` signals have arrived.
    pub async fn wait_for(&self, count: u32) {
        loop {
            let notified = self.notify.notified();
            if self.count.load(Ordering::SeqCst) >= count {
                return;
            }
            notified.await;
        }
    }
}
