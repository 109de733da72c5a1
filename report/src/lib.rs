//! The report: one self-contained HTML file per run (or per checked history) — inline CSS, JS
//! and SVG, no network — and the index of the runs in a store.
//!
//! Data in, data out: [`render`] takes the history and the typed records of a run (or just a
//! checker's result) and returns the page; [`render_run_dir`] reads them from a run directory.
//! Each checker's result has its own part (`checks/`): a verdict line, sections, and the same
//! in words ([`explain`]). Big drawings (latency points, the timeline) are drawn on canvases by
//! the inline script from a JSON island, so 100,000 ops never become 100,000 DOM nodes; the
//! small ones are SVG.

#![deny(missing_docs)]

pub mod campaign;
mod charts;
mod checks;
pub mod html;
pub mod index;
mod ops;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use checkers::CheckResult;
use history::{History, HistoryError, Outcome};
use results::{read_record, ConfigView, RecordError, RunRecord, TestRecord};

pub use checks::{explain, terminal_safe};
use html::{esc, row, script_json, seconds};

/// What a report is made from.
pub struct ReportInput<'a> {
    /// The page title (the test name, or the history file).
    pub title: String,
    /// The history.
    pub history: &'a History,
    /// The checkers' verdict, when the history was checked.
    pub checks: Option<&'a CheckResult>,
    /// `test.json` of a run: its parameters.
    pub test: Option<&'a TestRecord<ConfigView>>,
    /// `results.json` of a run: whether it was interrupted, whether its history is complete.
    pub run: Option<&'a RunRecord>,
    /// Node logs, as paths relative to the report.
    pub node_logs: Vec<String>,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A stored record is not what it should be.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The history cannot be read.
    #[error(transparent)]
    History(#[from] HistoryError),
}

const CSS: &str = include_str!("../assets/report.css");
const SCRIPT: &str = include_str!("../assets/report.js");

/// The page.
pub fn render(input: &ReportInput) -> Result<String, ReportError> {
    let drawn = ops::Drawn::new(input.history)?;
    let mut out = String::with_capacity(drawn.ops.len() * 80 + 64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — faultline</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{CSS}</style></head><body data-rendered=\"no\">\n",
        esc(&input.title)
    );
    let _ = write!(out, "<header><h1>{}</h1><p class=\"sub\">faultline report</p></header>\n<main>\n", esc(&input.title));

    summary(&mut out, input, &drawn);

    out.push_str("<section><h2>Latency</h2><p class=\"note\">One point per op (invoke to completion), log scale; ok, fail, info. Fault windows shaded.</p>\
                  <canvas id=\"latency\" width=\"960\" height=\"260\"></canvas>");
    out.push_str(&charts::latency_table(&drawn));
    out.push_str("</section>\n<section><h2>Throughput</h2><p class=\"note\">Completions per second: <span class=\"key-ok\">ok</span>, <span class=\"key-fail\">fail</span>, <span class=\"key-info\">info</span>.</p>");
    out.push_str(&charts::throughput_svg(&drawn));
    out.push_str("</section>\n");
    let _ = writeln!(
        out,
        "<section><h2>Timeline</h2><p class=\"note\">{} ops on {} lanes (processes that never overlap share a lane). Wheel to zoom, drag to scroll, hover for the op.</p>\
         <div class=\"timeline-box\"><canvas id=\"timeline\" width=\"960\" height=\"320\"></canvas><div id=\"tip\" hidden></div></div></section>",
        drawn.ops.len(),
        drawn.lanes
    );

    if let Some(checks) = input.checks {
        checks::sections(&mut out, checks, &drawn);
    }
    if !input.node_logs.is_empty() {
        out.push_str("<section><h2>Node logs</h2><ul>");
        for log in &input.node_logs {
            let _ = write!(out, "<li><a href=\"{0}\">{0}</a></li>", esc(log));
        }
        out.push_str("</ul></section>\n");
    }
    let _ = write!(
        out,
        "</main><p id=\"script-status\" class=\"note\">The charts need JavaScript.</p>\n<script type=\"application/json\" id=\"data\">{}</script>\n<script>{SCRIPT}</script>\n</body></html>\n",
        script_json(&drawn.script_data())
    );
    Ok(out)
}

fn summary(out: &mut String, input: &ReportInput, drawn: &ops::Drawn) {
    out.push_str("<section class=\"summary\"><h2>Verdict</h2>");
    match input.checks {
        Some(checks) => checks::verdict_lines(out, checks),
        None => out.push_str("<p class=\"verdict unknown\"><span class=\"badge\">unchecked</span> no checker result was found</p>"),
    }
    if input.run.is_some_and(|r| r.interrupted) {
        out.push_str(
            "<p class=\"verdict unknown\">The run was interrupted: the verdict covers only what was recorded before the stop.</p>",
        );
    }
    if let Some(why) = input.run.and_then(|r| r.history_incomplete.as_ref()) {
        let _ = write!(
            out,
            "<p class=\"verdict unknown\">The stored history is incomplete ({}); the checkers saw all of it, in memory.</p>",
            esc(why)
        );
    }

    out.push_str("<div class=\"cols\"><div><h3>Test</h3><table class=\"kv\">");
    if let Some(test) = input.test {
        row(out, &["name", &test.name]);
        row(out, &["run_id", &test.run_id]);
        row(out, &["seed", &test.seed.to_string()]);
        row(out, &["started", &test.started]);
        if let Some(v) = &test.target_version {
            row(out, &["target_version", v]);
        }
        row(out, &["faultline_version", &test.faultline_version]);
        let names: Vec<String> = test.nodes.iter().map(|n| format!("{} {}", n.name, n.ip)).collect();
        row(out, &["nodes", &names.join(", ")]);
        for (k, v) in &test.config {
            if !v.is_null() && k != "seed" {
                row(out, &[k, &html::short(v, 200)]);
            }
        }
        for note in &test.notes {
            row(out, &["note", note]);
        }
    } else {
        row(out, &["history", &input.history.source]);
    }
    row(out, &["duration", &seconds(drawn.span as f64 / 1e9)]);
    out.push_str("</table>");
    if let Some(test) = input.test {
        let _ = write!(out, "<h3>Run it again (same seed)</h3><pre class=\"rerun\">{}</pre>", esc(&test.rerun));
    }
    out.push_str("</div><div><h3>Operations</h3>");
    op_counts(out, drawn);
    checks::faults_table(out, input.checks.and_then(|c| c.availability()), drawn);
    out.push_str("</div></div></section>\n");
}

fn op_counts(out: &mut String, drawn: &ops::Drawn) {
    let mut by_f: std::collections::BTreeMap<&str, [usize; 3]> = Default::default();
    for o in &drawn.ops {
        let c = by_f.entry(o.f.as_str()).or_default();
        c[match o.outcome {
            Outcome::Ok => 0,
            Outcome::Fail => 1,
            Outcome::Info => 2,
        }] += 1;
    }
    let mut total = [0usize; 3];
    out.push_str("<table class=\"numbers\"><thead><tr><th>op</th><th>ok</th><th>fail</th><th>info</th></tr></thead><tbody>\n");
    for (f, c) in &by_f {
        for i in 0..3 {
            total[i] += c[i];
        }
        row(out, &[f, &c[0].to_string(), &c[1].to_string(), &c[2].to_string()]);
    }
    row(out, &["all", &total[0].to_string(), &total[1].to_string(), &total[2].to_string()]);
    out.push_str("</tbody></table>");
}

/// Reads a run directory (history.jsonl, and results.json, test.json and node logs when
/// present), writes its report.html and returns that path.
pub fn render_run_dir(dir: &Path) -> Result<PathBuf, ReportError> {
    let history_path = dir.join("history.jsonl");
    let file = std::fs::File::open(&history_path).map_err(|source| ReportError::Io { path: history_path.display().to_string(), source })?;
    let history = History::read_jsonl(&history_path.display().to_string(), std::io::BufReader::new(file))?;
    render_run(dir, &history)
}

/// The same for a run whose history is already in memory (the end of `faultline test`), so a
/// big history is not read back from disk.
pub fn render_run(dir: &Path, history: &History) -> Result<PathBuf, ReportError> {
    let test: Option<TestRecord<ConfigView>> = optional(read_record(&dir.join("test.json")))?;
    let run: Option<RunRecord> = optional(read_record(&dir.join("results.json")))?;
    let title = test.as_ref().map(|t| format!("{} {}", t.name, t.started)).unwrap_or_else(|| dir.display().to_string());
    let input = ReportInput {
        title,
        history,
        checks: run.as_ref().map(|r| &r.checks),
        test: test.as_ref(),
        run: run.as_ref(),
        node_logs: node_logs(dir),
    };
    let page = render(&input)?;
    let out = dir.join("report.html");
    std::fs::write(&out, page).map_err(|source| ReportError::Io { path: out.display().to_string(), source })?;
    Ok(out)
}

/// A record that may be missing (a run still going has no results.json).
fn optional<T>(read: Result<T, RecordError>) -> Result<Option<T>, RecordError> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `nodes/<node>/<file>.log`, relative to the run directory, sorted.
fn node_logs(dir: &Path) -> Vec<String> {
    let mut logs = Vec::new();
    if let Ok(nodes) = std::fs::read_dir(dir.join("nodes")) {
        for node in nodes.flatten() {
            if let Ok(files) = std::fs::read_dir(node.path()) {
                for f in files.flatten() {
                    let name = f.file_name().to_string_lossy().to_string();
                    if name.ends_with(".log") {
                        logs.push(format!("nodes/{}/{name}", node.file_name().to_string_lossy()));
                    }
                }
            }
        }
    }
    logs.sort();
    logs
}
