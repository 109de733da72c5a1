//! The report: one self-contained HTML file per run (or per checked history) — inline CSS, JS
//! and SVG, no network — and the index of the runs in a store.
//!
//! Data in, data out: [`render`] takes the history and whatever results exist, as plain values,
//! and returns the page; [`render_run_dir`] reads them from a run directory. Big drawings
//! (latency points, the timeline) are drawn on canvases by the inline script from a JSON island,
//! so 100,000 ops never become 100,000 DOM nodes; the small ones are SVG.

mod charts;
mod failure;
pub mod html;
pub mod index;
mod ops;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use checkers::history::{History, HistoryError, Outcome};
use checkers::linearizable::LinearizabilityResult;
use checkers::Validity;
use serde_json::Value;

use html::{esc, row, script_json, seconds};

/// What a report is made from.
pub struct ReportInput<'a> {
    /// The page title (the test name, or the history file).
    pub title: String,
    pub history: &'a History,
    /// The linearizability verdict, when the history was checked.
    pub linearizable: Option<&'a LinearizabilityResult>,
    /// `test.json` of a run: its parameters.
    pub test: Option<&'a Value>,
    /// `results.json` of a run: availability, op counts, cluster timings.
    pub results: Option<&'a Value>,
    /// Node logs, as paths relative to the report.
    pub node_logs: Vec<String>,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not valid JSON: {source}")]
    Json { path: String, source: serde_json::Error },
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
    let _ = write!(
        out,
        "<section><h2>Timeline</h2><p class=\"note\">{} ops on {} lanes (processes that never overlap share a lane). Wheel to zoom, drag to scroll, hover for the op.</p>\
         <div class=\"timeline-box\"><canvas id=\"timeline\" width=\"960\" height=\"320\"></canvas><div id=\"tip\" hidden></div></div></section>\n",
        drawn.ops.len(),
        drawn.lanes
    );

    if let Some(lin) = input.linearizable {
        failures(&mut out, lin, &drawn);
        per_key(&mut out, lin);
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

fn verdict_class(v: Validity) -> &'static str {
    match v {
        Validity::Valid => "valid",
        Validity::Invalid => "invalid",
        Validity::Unknown => "unknown",
    }
}

fn summary(out: &mut String, input: &ReportInput, drawn: &ops::Drawn) {
    out.push_str("<section class=\"summary\"><h2>Verdict</h2>");
    match input.linearizable {
        Some(lin) => {
            let cause = lin.cause.map(|c| format!(": {}", c.describe())).unwrap_or_default();
            let failing: Vec<String> = lin
                .failures()
                .map(|(k, _)| {
                    let name = k.key.as_ref().map(|k| format!("key {k}")).unwrap_or_else(|| "the history".to_string());
                    format!("<a href=\"#failure-{}\">{}</a>", esc(&failure::anchor(&name)), esc(&name))
                })
                .collect();
            let _ = write!(
                out,
                "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> linearizability ({1} model){2}{3} — {4} ops checked over {5} key(s), {6} indeterminate, in {7}</p>",
                verdict_class(lin.valid),
                esc(&lin.model),
                esc(&cause),
                if failing.is_empty() { String::new() } else { format!("; not linearizable: {}", failing.join(", ")) },
                lin.checked_ops,
                lin.keys,
                lin.indeterminate_ops,
                seconds(lin.elapsed_ms / 1e3)
            );
        }
        None => out.push_str("<p class=\"verdict unknown\"><span class=\"badge\">unchecked</span> no checker result was found</p>"),
    }
    if input.results.and_then(|r| r["interrupted"].as_bool()) == Some(true) {
        out.push_str("<p class=\"verdict unknown\">The run was interrupted: the verdict covers only what was recorded before the stop.</p>");
    }

    out.push_str("<div class=\"cols\"><div><h3>Test</h3><table class=\"kv\">");
    if let Some(test) = input.test {
        for field in ["name", "run_id", "seed", "started", "target_version", "faultline_version"] {
            if let Some(v) = test.get(field).filter(|v| !v.is_null()) {
                row(out, &[field, &html::short(v, 200)]);
            }
        }
        if let Some(nodes) = test["nodes"].as_array() {
            let names: Vec<String> = nodes.iter().map(|n| format!("{} {}", html::short(&n["name"], 20), html::short(&n["ip"], 40))).collect();
            row(out, &["nodes", &names.join(", ")]);
        }
        if let Some(config) = test["config"].as_object() {
            for (k, v) in config {
                if !v.is_null() && k != "seed" {
                    row(out, &[k, &html::short(v, 200)]);
                }
            }
        }
    } else {
        row(out, &["history", &input.history.source]);
    }
    row(out, &["duration", &seconds(drawn.span as f64 / 1e9)]);
    out.push_str("</table>");
    if let Some(rerun) = input.test.and_then(|t| t["rerun"].as_str()) {
        let _ = write!(out, "<h3>Run it again (same seed)</h3><pre class=\"rerun\">{}</pre>", esc(rerun));
    }
    out.push_str("</div><div><h3>Operations</h3>");
    op_counts(out, drawn);
    faults(out, input, drawn);
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

fn faults(out: &mut String, input: &ReportInput, drawn: &ops::Drawn) {
    out.push_str("<h3>Faults</h3>");
    if drawn.faults.is_empty() {
        out.push_str("<p>None injected.</p>");
        return;
    }
    let windows = input.results.and_then(|r| r["nemesis"]["windows"].as_array());
    out.push_str("<table class=\"numbers\"><thead><tr><th>fault</th><th>from</th><th>to</th><th>ok rate</th><th>longest without ok</th><th>heal to first ok</th><th>detail</th></tr></thead><tbody>\n");
    for (i, w) in drawn.faults.iter().enumerate() {
        // The run's availability figures, when it has them, in the same order as the windows.
        let a = windows.and_then(|ws| ws.get(i));
        let pct = a.and_then(|a| a["success_rate"].as_f64()).map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_default();
        let secs = |field: &str| a.and_then(|a| a[field].as_f64()).map(seconds).unwrap_or_default();
        row(
            out,
            &[
                &w.name,
                &format!("{:.1} s", w.start as f64 / 1e9),
                &format!("{:.1} s", w.end as f64 / 1e9),
                &pct,
                &secs("longest_without_ok_s"),
                &secs("heal_to_first_ok_s"),
                &html::short(&w.detail, 90),
            ],
        );
    }
    out.push_str("</tbody></table>");
}

fn failures(out: &mut String, lin: &LinearizabilityResult, drawn: &ops::Drawn) {
    let failing: Vec<_> = lin.failures().collect();
    if failing.is_empty() {
        return;
    }
    let _ = write!(out, "<section><h2>Not linearizable: {} key(s)</h2>", failing.len());
    for (key, f) in failing {
        out.push_str(&failure::section(drawn, key, f));
    }
    out.push_str("</section>\n");
}

/// Rows shown in the per-key table; the rest are summarised.
const KEY_ROWS: usize = 500;

fn per_key(out: &mut String, lin: &LinearizabilityResult) {
    let _ = write!(out, "<section><h2>Keys</h2><details><summary>{} key(s)</summary><table class=\"numbers\"><thead><tr><th>key</th><th>verdict</th><th>ops</th><th>states</th><th>time</th></tr></thead><tbody>\n", lin.per_key.len());
    for k in lin.per_key.iter().take(KEY_ROWS) {
        let key = k.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| "-".to_string());
        let verdict = match (k.valid, k.cause) {
            (v, Some(c)) => format!("{} ({})", verdict_class(v), c.describe()),
            (v, None) => verdict_class(v).to_string(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} ms</td></tr>",
            verdict_class(k.valid),
            esc(&key),
            esc(&verdict),
            k.ops,
            k.states,
            k.elapsed_ms
        );
    }
    out.push_str("</tbody></table>");
    if lin.per_key.len() > KEY_ROWS {
        let _ = write!(out, "<p class=\"note\">… and {} more keys (see results.json).</p>", lin.per_key.len() - KEY_ROWS);
    }
    out.push_str("</details></section>\n");
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
    let read_json = |name: &str| -> Result<Option<Value>, ReportError> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|source| ReportError::Json { path: path.display().to_string(), source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ReportError::Io { path: path.display().to_string(), source }),
        }
    };
    let test = read_json("test.json")?;
    let results = read_json("results.json")?;
    let linearizable: Option<LinearizabilityResult> = match results.as_ref().map(|r| &r["linearizable"]) {
        Some(v) if !v.is_null() => Some(
            serde_json::from_value(v.clone()).map_err(|source| ReportError::Json { path: dir.join("results.json").display().to_string(), source })?,
        ),
        _ => None,
    };
    let title = test
        .as_ref()
        .and_then(|t| t["name"].as_str().map(|n| format!("{n} {}", t["started"].as_str().unwrap_or(""))))
        .unwrap_or_else(|| dir.display().to_string());
    let input = ReportInput {
        title,
        history,
        linearizable: linearizable.as_ref(),
        test: test.as_ref(),
        results: results.as_ref(),
        node_logs: node_logs(dir),
    };
    let page = render(&input)?;
    let out = dir.join("report.html");
    std::fs::write(&out, page).map_err(|source| ReportError::Io { path: out.display().to_string(), source })?;
    Ok(out)
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
