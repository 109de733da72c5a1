//! The counter checker's part: the reads outside their bounds, with the bounds.

use std::fmt::Write;

use checkers::counter::CounterResult;
use history::Validity;

use super::verdict_class;
use crate::html::row;

pub(super) fn verdict_line(out: &mut String, c: &CounterResult) {
    let valid = if c.errors_total > 0 { Validity::Invalid } else { Validity::Valid };
    let _ = write!(
        out,
        "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> counter: {1} reads checked against {2} increments ({3} acknowledged, {4} indeterminate); {5} outside their bounds</p>",
        verdict_class(valid),
        c.reads,
        c.adds.iter().sum::<usize>(),
        c.adds[0],
        c.adds[2],
        c.errors_total
    );
}

pub(super) fn sections(out: &mut String, c: &CounterResult) {
    if c.errors.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section><h2>Counter: reads outside their bounds ({})</h2><p class=\"note\">lower: increments acknowledged before the read began; upper: increments invoked (and not failed) before it ended.</p>\
         <table class=\"numbers\"><thead><tr><th>read (index)</th><th>value</th><th>lower</th><th>upper</th><th>at</th></tr></thead><tbody>",
        c.errors_total
    );
    for e in &c.errors {
        row(
            out,
            &[
                &e.index.to_string(),
                &e.value.to_string(),
                &e.lower.to_string(),
                &e.upper.to_string(),
                &format!("{:.3} s", e.time as f64 / 1e9),
            ],
        );
    }
    out.push_str("</tbody></table></section>\n");
}

pub(super) fn explain(c: &CounterResult) -> String {
    let mut out = String::new();
    if c.errors_total == 0 {
        let _ = writeln!(out, "valid: counter: all {} reads within their bounds", c.reads);
        return out;
    }
    let _ = writeln!(out, "invalid: counter: {} of {} reads outside their bounds", c.errors_total, c.reads);
    for e in c.errors.iter().take(10) {
        let _ = writeln!(out, "  read at history index {} saw {}, but it must lie in {}..={}", e.index, e.value, e.lower, e.upper);
    }
    out
}
