//! The linearizability result: its verdict line, each non-linearizable key as a picture (its
//! ops around the failure, one row per process, time left to right; the op that cannot be
//! placed in red, the ops of the longest linearizable prefix numbered in the order they were
//! linearized, and the model state after each), the per-key table, and all of it in words.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use checkers::linearizable::{Failure, KeyResult, LinearizabilityResult, OpRef};
use history::{Outcome, Validity};

use super::verdict_class;
use crate::html::{esc, seconds, short};
use crate::ops::Drawn;

/// The verdict line of the summary.
pub(super) fn verdict_line(out: &mut String, lin: &LinearizabilityResult) {
    let cause = lin.cause.map(|c| format!(": {}", c.describe())).unwrap_or_default();
    let failing: Vec<String> = lin
        .failures()
        .map(|(k, _)| {
            let name = key_name(k);
            format!("<a href=\"#failure-{}\">{}</a>", esc(&anchor(&name)), esc(&name))
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

/// The sections: the failing keys, then every key.
pub(super) fn sections(out: &mut String, lin: &LinearizabilityResult, drawn: &Drawn) {
    let failing: Vec<_> = lin.failures().collect();
    if !failing.is_empty() {
        let _ = write!(out, "<section><h2>Not linearizable: {} key(s)</h2>", failing.len());
        for (key, f) in failing {
            out.push_str(&section(drawn, key, f));
        }
        out.push_str("</section>\n");
    }
    per_key(out, lin);
}

fn key_name(k: &KeyResult) -> String {
    k.key.as_ref().map(|k| format!("key {k}")).unwrap_or_else(|| "the history".to_string())
}

/// Rows shown in the per-key table; the rest are summarised.
const KEY_ROWS: usize = 500;

fn per_key(out: &mut String, lin: &LinearizabilityResult) {
    let _ = writeln!(out, "<section><h2>Keys</h2><details><summary>{} key(s)</summary><table class=\"numbers\"><thead><tr><th>key</th><th>verdict</th><th>ops</th><th>states</th><th>time</th></tr></thead><tbody>", lin.per_key.len());
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

/// The verdict line and, when invalid, each failing key's evidence, in words.
pub(super) fn explain(r: &LinearizabilityResult) -> String {
    let mut out = String::new();
    let decided = r.per_key.iter().filter(|k| k.valid != Validity::Unknown).count();
    match r.valid {
        Validity::Valid => {
            let _ = writeln!(out, "valid: the history is linearizable ({:.1} ms)", r.elapsed_ms);
        }
        Validity::Unknown => {
            let cause = r.cause.map(|c| c.describe()).unwrap_or("undecided");
            let _ = writeln!(out, "unknown: {cause} after {:.1} s; {decided} of {} keys decided, none invalid", r.elapsed_ms / 1e3, r.keys);
        }
        Validity::Invalid => {
            let failing: Vec<_> = r.failures().collect();
            let _ = writeln!(
                out,
                "invalid: not linearizable: {} key{} failed ({:.1} ms)",
                failing.len(),
                if failing.len() == 1 { "" } else { "s" },
                r.elapsed_ms
            );
            for (k, f) in failing {
                let _ = writeln!(out, "\n{}: no linearization can include", key_name(k));
                let _ = writeln!(out, "  {}", f.op.describe());
                let _ = writeln!(
                    out,
                    "  The longest linearizable prefix has {} of this key's {} ops; the state after it is {}.",
                    f.prefix.len(),
                    k.ops,
                    f.state
                );
                let tail = f.prefix.len().saturating_sub(8);
                if !f.prefix.is_empty() {
                    let _ =
                        writeln!(out, "  Its last steps{}:", if tail > 0 { format!(" (of {})", f.prefix.len()) } else { String::new() });
                    for step in &f.prefix[tail..] {
                        let _ = writeln!(out, "    {}  => state {}", step.op.describe(), step.state);
                    }
                }
                if !f.concurrent.is_empty() {
                    let _ = writeln!(out, "  Concurrent with the failing op ({}):", f.concurrent.len());
                    for op in f.concurrent.iter().take(10) {
                        let _ = writeln!(out, "    {}", op.describe());
                    }
                    if f.concurrent.len() > 10 {
                        let _ = writeln!(out, "    … and {} more (see --json)", f.concurrent.len() - 10);
                    }
                }
            }
            let cancelled = r.per_key.iter().filter(|k| k.cause.is_some()).count();
            if cancelled > 0 {
                let _ = writeln!(
                    out,
                    "\n{cancelled} other key(s) were not decided (stopped at the first invalid key; --all-keys decides them all)."
                );
            }
        }
    }
    out
}

/// Prefix steps drawn and listed (the last ones before the failure).
const STEPS_SHOWN: usize = 12;
/// Ops drawn at most.
const OPS_SHOWN: usize = 60;
const WIDTH: f64 = 960.0;
const ROW: f64 = 30.0;
const LEFT: f64 = 90.0;

/// The section for one failing key.
fn section(drawn: &Drawn, key: &KeyResult, failure: &Failure) -> String {
    let key_name = key_name(key);
    let shown_from = failure.prefix.len().saturating_sub(STEPS_SHOWN);
    let steps = &failure.prefix[shown_from..];
    let step_of: HashMap<u64, usize> = steps.iter().enumerate().map(|(i, s)| (s.op.invoke_index, shown_from + i + 1)).collect();

    let mut out = String::new();
    let _ =
        write!(out, r#"<section class="failure" id="failure-{}"><h3>{}: not linearizable</h3>"#, esc(&anchor(&key_name)), esc(&key_name));
    let _ = write!(
        out,
        "<p class=\"explain\">The ops numbered 1–{} can be put in an order that respects real time (no op before one that \
         completed before it started) and that the model accepts; after them the state is <code>{}</code>. \
         The red op, <code>{}</code>, cannot come next, and no other order of the ops around it works either: \
         <strong>no linearization includes it</strong>. {}</p>",
        failure.prefix.len(),
        esc(&short(&failure.state, 80)),
        esc(&failure.op.describe()),
        if failure.prefix.len() > steps.len() {
            format!("The picture shows the last {} of those steps.", steps.len())
        } else {
            String::new()
        }
    );
    out.push_str(&picture(drawn, key, failure, &step_of));
    out.push_str("<table class=\"steps\"><thead><tr><th>step</th><th>op</th><th>state after</th></tr></thead><tbody>\n");
    for (i, s) in steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            shown_from + i + 1,
            esc(&s.op.describe()),
            esc(&short(&s.state, 120))
        );
    }
    let _ =
        writeln!(out, "<tr class=\"culprit\"><td>✗</td><td>{}</td><td>cannot be linearized here</td></tr>", esc(&failure.op.describe()));
    out.push_str("</tbody></table>");
    if !failure.concurrent.is_empty() {
        let _ = write!(out, "<details><summary>{} ops concurrent with the red one</summary><ul>", failure.concurrent.len());
        for op in &failure.concurrent {
            let _ = write!(out, "<li>{}</li>", esc(&op.describe()));
        }
        out.push_str("</ul></details>");
    }
    out.push_str("</section>\n");
    out
}

/// The anchor of a key's section.
fn anchor(key_name: &str) -> String {
    key_name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

fn picture(drawn: &Drawn, key: &KeyResult, failure: &Failure, step_of: &HashMap<u64, usize>) -> String {
    let rel = |t: u64| t.saturating_sub(drawn.t0);
    let culprit = &failure.op;
    // The time window: the shown steps, the culprit and what overlaps it.
    let mut lo = rel(culprit.start);
    let mut hi = rel(culprit.end.unwrap_or(culprit.start));
    let mut widen = |o: &OpRef| {
        lo = lo.min(rel(o.start));
        hi = hi.max(rel(o.end.unwrap_or(o.start)));
    };
    for o in failure.concurrent.iter() {
        widen(o);
    }
    for s in failure.prefix.iter().rev().take(STEPS_SHOWN) {
        widen(&s.op);
    }
    let key_text = key.key.as_ref().map(|k| k.to_string());
    let mut ops: Vec<&crate::ops::Interval> =
        drawn.ops.iter().filter(|o| o.key == key_text && o.start <= hi && o.end.is_none_or(|e| e >= lo)).collect();
    // Keep those nearest the culprit when there are too many.
    let middle = rel(culprit.start);
    ops.sort_by_key(|o| o.start.abs_diff(middle));
    ops.truncate(OPS_SHOWN);
    ops.sort_by_key(|o| o.start);
    let processes: BTreeSet<(u32, &str)> = ops.iter().map(|o| (o.lane, o.process.as_str())).collect();
    let row_of: HashMap<&str, usize> = processes.iter().enumerate().map(|(i, (_, p))| (*p, i)).collect();
    let span = (hi - lo).max(1) as f64;
    let x = |t: u64| LEFT + (t.clamp(lo, hi) - lo) as f64 / span * (WIDTH - LEFT - 10.0);
    let height = ROW * row_of.len() as f64 + 26.0;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="failure-picture" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="the ops of this key around the failure">"#
    );
    for (i, (_, p)) in processes.iter().enumerate() {
        let _ = write!(svg, r#"<text class="lane" x="4" y="{:.1}">process {}</text>"#, ROW * i as f64 + 19.0, esc(p));
    }
    for o in &ops {
        let r = row_of[o.process.as_str()] as f64;
        let (x0, x1) = (x(o.start), x(o.end.unwrap_or(hi)));
        let is_culprit = o.index == culprit.invoke_index;
        let step = step_of.get(&o.index);
        let class = match (is_culprit, o.outcome) {
            (true, _) => "culprit",
            (_, Outcome::Ok) if step.is_some() => "step",
            (_, Outcome::Ok) => "ok",
            (_, Outcome::Fail) => "fail",
            (_, Outcome::Info) => "info",
        };
        let mut label = if o.value.is_null() { o.f.clone() } else { format!("{} {}", o.f, short(&o.value, 16)) };
        if let Some(r) = &o.result {
            if r != &o.value {
                label = format!("{label} → {}", short(r, 16));
            }
        }
        if let Some(n) = step {
            label = format!("{n}. {label}");
        }
        let _ = write!(
            svg,
            r#"<g class="op {class}"><rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3"><title>{}</title></rect><text x="{:.1}" y="{:.1}">{}</text></g>"#,
            ROW * r + 5.0,
            (x1 - x0).max(2.0),
            ROW - 10.0,
            esc(&format!("process {}: {} (history index {}, {:?})", o.process, label, o.index, o.outcome)),
            x0 + 3.0,
            ROW * r + 19.0,
            esc(&label)
        );
    }
    let _ = write!(
        svg,
        r#"<text class="axis" x="{LEFT}" y="{:.1}">{:.3} s</text><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{:.3} s</text></svg>"#,
        height - 6.0,
        lo as f64 / 1e9,
        WIDTH - 10.0,
        height - 6.0,
        hi as f64 / 1e9
    );
    svg
}
