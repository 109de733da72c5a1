//! What `faultline test` prints, from the run's events: a progress bar on a terminal, a plain
//! line every five seconds otherwise (CI logs), and the verdict in words at the end.

use std::io::IsTerminal;
use std::time::Duration;

use crate::run::{EventSink, RunEvent};

// Printing never stops a run: with stdout closed (`faultline test | head`) the run goes on,
// heals, checks and writes its files. (println! would panic on the broken pipe.)
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Prints a run's events to stdout (warnings to stderr).
pub struct Console {
    bar: Option<indicatif::ProgressBar>,
    tty: bool,
    last_line: Duration,
}

impl Console {
    /// A console for this process's stdout.
    pub fn new() -> Console {
        Console { bar: None, tty: std::io::stdout().is_terminal(), last_line: Duration::ZERO }
    }

    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => out!("{line}"),
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl EventSink for Console {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        match event {
            RunEvent::Installing { packages } => {
                out!("faultline: installing {} with apt-get (needed by this test; --no-install to stop instead)", packages.join(" "))
            }
            RunEvent::Started { name, run_id, seed, dir, target, config } => {
                out!(
                    "faultline test {name}: run {run_id}, seed {seed}, {} {} nodes, {} clients, {} s",
                    config.nodes,
                    target,
                    config.concurrency,
                    config.time_limit
                );
                out!("run directory: {}", dir.display());
            }
            RunEvent::Note(note) => out!("note: {note}"),
            RunEvent::ClusterReady { took, nodes } => {
                let list: Vec<String> = nodes.iter().map(|n| format!("{} {}", n.name, n.ip)).collect();
                out!("cluster ready in {:.2} s: {}", took.as_secs_f64(), list.join(", "));
            }
            RunEvent::Op(_) => {}
            RunEvent::Fault(_) => {}
            RunEvent::Progress { elapsed, time_limit, counts: (ok, fail, info) } => {
                let secs = elapsed.as_secs().max(1);
                let line = format!("ok {ok}  fail {fail}  info {info}  ({} ops/s)", (ok + fail + info) / secs);
                if self.tty {
                    let bar = self.bar.get_or_insert_with(|| {
                        let bar = indicatif::ProgressBar::new(time_limit.as_secs().max(1));
                        if let Ok(style) = indicatif::ProgressStyle::with_template("{elapsed:>4} / {len}s [{bar:30}] {msg}") {
                            bar.set_style(style.progress_chars("=> "));
                        }
                        bar
                    });
                    bar.set_position(elapsed.as_secs().min(time_limit.as_secs()));
                    bar.set_message(line);
                } else if *elapsed >= self.last_line + Duration::from_secs(5) {
                    self.last_line = *elapsed;
                    out!("[{:>4}s / {}s] {line}", elapsed.as_secs(), time_limit.as_secs());
                }
            }
            RunEvent::Recovered { record, ready } => {
                if !record.actions.is_empty() {
                    self.println(&format!("final heal: {}", record.actions.join(", ")));
                }
                for e in &record.errors {
                    err!("problem: final heal: {e}");
                }
                if let Some(took) = ready {
                    self.println(&format!("recovered: every node ready {:.2} s after the final heal", took.as_secs_f64()));
                }
            }
            RunEvent::Warning(text) => {
                if let Some(bar) = &self.bar {
                    bar.suspend(|| err!("warning: {text}"));
                } else {
                    err!("warning: {text}");
                }
            }
            RunEvent::TornDown { took, ops, problems } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                for p in problems.iter() {
                    err!("teardown: {p}");
                }
                out!("workload done: {ops} ops recorded; cluster torn down in {:.2} s", took.as_secs_f64());
            }
            RunEvent::Checked { checks, interrupted: false } => print!("{}", report::explain(checks)),
            RunEvent::Checked { checks, interrupted: true } => {
                // Not "valid": a stopped run's verdict is unknown, whatever the part recorded was.
                let explained = report::explain(checks);
                let found = if checks.valid == history::Validity::Invalid { "invalid" } else { "no violation found" };
                out!("interrupted: no verdict for the whole test ({found} in what was recorded before the stop)");
                for line in explained.lines().filter(|l| !l.starts_with("valid:")) {
                    out!("{line}");
                }
            }
            RunEvent::Finished { record, dir, report } => {
                let o = &record.ops;
                out!(
                    "ok {}, fail {}, info {} over {} keys (ok per key: median {})",
                    o.ok,
                    o.fail,
                    o.info,
                    o.keys,
                    o.ok_per_key_median.unwrap_or(0)
                );
                if record.interrupted {
                    out!("interrupted: the verdict covers only what was recorded before the stop");
                }
                if let Some(why) = &record.history_incomplete {
                    out!("the stored history is incomplete ({why}); the verdict above covers the whole history, which was kept in memory");
                }
                if let Some(path) = report {
                    out!("report: {}", path.display());
                }
                out!("results: {}", dir.display());
            }
        }
        Ok(())
    }
}
