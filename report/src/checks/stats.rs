//! The stats checker: a warning when an operation never succeeded (the op counts themselves are
//! in the summary's table already).

use std::fmt::Write;

use checkers::stats::StatsResult;

use crate::html::esc;

/// A warning line in the summary, when there is something to warn about.
pub(super) fn verdict_line(out: &mut String, s: &StatsResult) {
    if !s.never_ok.is_empty() {
        let _ = write!(
            out,
            "<p class=\"verdict unknown\"><span class=\"badge\">warning</span> never succeeded: {} — the verdict says little about {}</p>",
            esc(&s.never_ok.join(", ")),
            if s.never_ok.len() == 1 { "it" } else { "them" }
        );
    }
}

/// The warning in words.
pub(super) fn explain(s: &StatsResult) -> String {
    if s.never_ok.is_empty() {
        return String::new();
    }
    format!("warning: no `{}` ever succeeded: the verdict says little about it\n", s.never_ok.join("`, `"))
}
