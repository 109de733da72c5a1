//! The index of the runs in a store: newest first, each with its verdict, faults and seed,
//! linking to its report and files. Written as `store/index.html` after every run, and served
//! fresh by `faultline serve`.

use std::fmt::Write;
use std::path::Path;

use results::{read_record, ConfigView, RunRecord, TestRecord};

use crate::html::{esc, seconds};

/// One run, as the index lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    /// `<test-name>/<timestamp>`, relative to the store.
    pub dir: String,
    /// The test's name.
    pub name: String,
    /// Wall-clock start.
    pub started: String,
    /// Its seed.
    pub seed: u64,
    /// valid / invalid / unknown, or `unfinished` when there is no results.json (still
    /// running, or killed).
    pub verdict: String,
    /// The fault kinds, comma-separated.
    pub faults: String,
    /// Seconds the workload ran.
    pub duration: Option<f64>,
    /// Whether report.html exists.
    pub has_report: bool,
}

/// The runs found under `store` (`store/<name>/<timestamp>/test.json`), newest first. Runs
/// whose test.json cannot be read are left out.
pub fn scan(store: &Path) -> Vec<RunEntry> {
    let mut runs = Vec::new();
    let Ok(tests) = std::fs::read_dir(store) else { return runs };
    for test in tests.flatten() {
        let Ok(kind) = test.file_type() else { continue };
        if !kind.is_dir() {
            continue; // `latest` is a symlink, index.html a file
        }
        let Ok(stamps) = std::fs::read_dir(test.path()) else { continue };
        for stamp in stamps.flatten() {
            let dir = stamp.path();
            if !stamp.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Ok(t) = read_record::<TestRecord<ConfigView>>(&dir.join("test.json")) else { continue };
            let run = read_record::<RunRecord>(&dir.join("results.json")).ok();
            runs.push(RunEntry {
                dir: format!("{}/{}", test.file_name().to_string_lossy(), stamp.file_name().to_string_lossy()),
                name: t.name,
                started: t.started,
                seed: t.seed,
                verdict: run.as_ref().map_or("unfinished", |r| r.valid.as_str()).to_string(),
                faults: run.as_ref().map(|r| r.faults.kinds.join(", ")).unwrap_or_default(),
                duration: run.as_ref().map(|r| r.duration_seconds),
                has_report: dir.join("report.html").exists(),
            });
        }
    }
    runs.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| b.dir.cmp(&a.dir)));
    runs
}

/// The index page; links are relative to the store.
pub fn render(store_name: &str, runs: &[RunEntry]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faultline runs — {0}</title><style>{1}</style></head><body>\
         <header><h1>faultline runs</h1><p class=\"sub\">{0}: {2} run(s), newest first</p></header><main><table class=\"numbers runs\">\
         <thead><tr><th>started</th><th>test</th><th>verdict</th><th>duration</th><th>faults</th><th>seed</th><th>files</th></tr></thead><tbody>\n",
        esc(store_name),
        crate::CSS,
        runs.len()
    );
    for r in runs {
        let dir = esc(&r.dir);
        let report = if r.has_report { format!("<a href=\"{dir}/report.html\">report</a> · ") } else { String::new() };
        let _ = writeln!(
            out,
            "<tr class=\"{v}\"><td>{}</td><td>{}</td><td><span class=\"badge\">{v}</span></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{report}<a href=\"{dir}/history.jsonl\">history</a> · <a href=\"{dir}/results.json\">results</a> · <a href=\"{dir}/test.json\">test</a> · <a href=\"{dir}/nodes/\">nodes</a></td></tr>",
            esc(&r.started),
            esc(&r.name),
            r.duration.map(seconds).unwrap_or_default(),
            esc(&r.faults),
            r.seed,
            v = esc(&r.verdict),
        );
    }
    out.push_str("</tbody></table></main></body></html>\n");
    out
}

/// Rewrites `store/index.html`.
pub fn write(store: &Path) -> std::io::Result<std::path::PathBuf> {
    let page = render(&store.display().to_string(), &scan(store));
    let path = store.join("index.html");
    std::fs::write(&path, page)?;
    Ok(path)
}
