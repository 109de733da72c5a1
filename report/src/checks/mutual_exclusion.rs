//! The mutual-exclusion checker's part: every pair of clients that held the lock at once, with
//! when, for how long, and what each acquire returned (the lease).

use std::fmt::Write;

use checkers::mutual_exclusion::{Hold, MutualExclusionResult};
use history::Validity;

use super::verdict_class;
use crate::html::row;

fn secs(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

fn hold(h: &Hold) -> String {
    let to = h.to.map_or_else(|| "never released".to_string(), secs);
    format!(
        "process {} via {}: {} → {} (acquire at history index {}, returned {})",
        h.process,
        h.node.as_deref().unwrap_or("?"),
        secs(h.from),
        to,
        h.index,
        h.acquired
    )
}

pub(super) fn verdict_line(out: &mut String, m: &MutualExclusionResult) {
    let valid = if m.overlap_count > 0 { Validity::Invalid } else { Validity::Valid };
    let _ = write!(
        out,
        "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> mutual exclusion: {1} acknowledged holds ({2} never released); {3} pairs held the lock at once</p>",
        verdict_class(valid),
        m.holds,
        m.unreleased,
        m.overlap_count
    );
}

pub(super) fn sections(out: &mut String, m: &MutualExclusionResult) {
    if m.overlaps.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section><h2>Mutual exclusion: two holders at once ({})</h2><p class=\"note\">a client surely holds the lock from its acquire's ok until it invokes release.</p>\
         <table class=\"numbers\"><thead><tr><th>first holder</th><th>second holder</th><th>both held for</th></tr></thead><tbody>",
        m.overlap_count
    );
    for o in &m.overlaps {
        row(out, &[&hold(&o.first), &hold(&o.second), &secs(o.both_for)]);
    }
    out.push_str("</tbody></table></section>\n");
}

pub(super) fn explain(m: &MutualExclusionResult) -> String {
    let mut out = String::new();
    if m.overlap_count == 0 {
        let _ = writeln!(out, "valid: mutual exclusion: {} holds, never two at once", m.holds);
        return out;
    }
    let _ = writeln!(out, "invalid: mutual exclusion: {} pairs of clients held the lock at once", m.overlap_count);
    for o in m.overlaps.iter().take(5) {
        let _ = writeln!(out, "  {}\n    and {}\n    both for {}", hold(&o.first), hold(&o.second), secs(o.both_for));
    }
    out
}
