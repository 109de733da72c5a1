//! One part of the report per checker result: its verdict line in the summary, its sections
//! below the charts, and its explanation in words for the terminal. A checker without a part
//! here is shown as a table of its result's fields.

mod availability;
mod bank;
mod counter;
mod linearizable;
mod list_append;
mod mutual_exclusion;
mod set;
mod stats;

use std::fmt::Write;

use checkers::{CheckDetail, CheckResult};
use history::Validity;

use crate::html::{esc, short};
use crate::ops::Drawn;

pub(crate) use availability::faults_table;

/// `valid`, `invalid` or `unknown`: the CSS class of a verdict.
pub(crate) fn verdict_class(v: Validity) -> &'static str {
    v.as_str()
}

/// The results directly inside `result`, with their names.
fn parts(result: &CheckResult) -> Vec<(&str, &CheckResult)> {
    result.parts()
}

/// The summary's verdict lines, one per checker that has something to say.
pub(crate) fn verdict_lines(out: &mut String, result: &CheckResult) {
    for (name, part) in parts(result) {
        match &part.detail {
            CheckDetail::Linearizable(l) => linearizable::verdict_line(out, l),
            CheckDetail::Stats(s) => stats::verdict_line(out, s),
            CheckDetail::Set(s) => set::verdict_line(out, s),
            CheckDetail::Counter(c) => counter::verdict_line(out, c),
            CheckDetail::MutualExclusion(m) => mutual_exclusion::verdict_line(out, m),
            CheckDetail::Bank(b) => bank::verdict_line(out, b),
            CheckDetail::ListAppend(l) => list_append::verdict_line(out, l),
            CheckDetail::Availability(_) => {}
            other => generic_line(out, name, part.valid, other),
        }
    }
}

/// The sections below the charts.
pub(crate) fn sections(out: &mut String, result: &CheckResult, drawn: &Drawn) {
    for (name, part) in parts(result) {
        match &part.detail {
            CheckDetail::Linearizable(l) => linearizable::sections(out, l, drawn),
            CheckDetail::Set(s) => set::sections(out, s, drawn),
            CheckDetail::Counter(c) => counter::sections(out, c),
            CheckDetail::MutualExclusion(m) => mutual_exclusion::sections(out, m),
            CheckDetail::Bank(b) => bank::sections(out, b),
            CheckDetail::ListAppend(l) => list_append::sections(out, l),
            CheckDetail::Availability(_) | CheckDetail::Stats(_) => {}
            other => generic_section(out, name, other),
        }
    }
}

/// The result in words, as `faultline check` and `faultline test` print it. Values from the
/// history are in it: control characters are shown escaped ([`terminal_safe`]), so a history
/// cannot drive the reader's terminal.
pub fn explain(result: &CheckResult) -> String {
    terminal_safe(&explain_raw(result))
}

/// `text` with every control character but newline and tab written as `\u{…}`: safe to print
/// on a terminal (no escape sequences, no carriage returns that hide a line).
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn explain_raw(result: &CheckResult) -> String {
    let mut out = String::new();
    for (name, part) in parts(result) {
        let text = match &part.detail {
            CheckDetail::Linearizable(l) => linearizable::explain(l),
            CheckDetail::Availability(a) => availability::explain(a),
            CheckDetail::Stats(s) => stats::explain(s),
            CheckDetail::Set(s) => set::explain(s),
            CheckDetail::Counter(c) => counter::explain(c),
            CheckDetail::MutualExclusion(m) => mutual_exclusion::explain(m),
            CheckDetail::Bank(b) => bank::explain(b),
            CheckDetail::ListAppend(l) => list_append::explain(l),
            CheckDetail::Crashed { message } => format!("unknown: the {name} checker crashed: {message}\n"),
            CheckDetail::Compose(_) => format!("{}: {name}\n", part.valid.as_str()),
        };
        out.push_str(&text);
    }
    out
}

fn generic_line(out: &mut String, name: &str, valid: Validity, detail: &CheckDetail) {
    let what = match detail {
        CheckDetail::Crashed { message } => format!("the checker crashed: {message}"),
        _ => String::new(),
    };
    let _ =
        write!(out, "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> {1} {2}</p>", verdict_class(valid), esc(name), esc(&what));
}

/// A result the report has no part for: its fields as a table.
fn generic_section(out: &mut String, name: &str, detail: &CheckDetail) {
    let value = serde_json::to_value(detail).unwrap_or_default();
    let _ = write!(out, "<section><h2>{}</h2><table class=\"kv\">", esc(name));
    if let Some(fields) = value.as_object().and_then(|o| o.values().next()).and_then(|v| v.as_object()) {
        for (k, v) in fields {
            crate::html::row(out, &[k, &short(v, 300)]);
        }
    }
    out.push_str("</table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10, item 14: terminal escape sequences in `key` or `f` were printed raw.
    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(terminal_safe("key \u{1b}[31mred\r\nnext\tcol"), "key \\u{1b}[31mred\\u{d}\nnext\tcol");
        assert_eq!(terminal_safe("plain é"), "plain é");
    }
}
