//! The bank checker's part: the reads whose balances do not add up, with how far off.

use std::fmt::Write;

use checkers::bank::BankResult;
use history::Validity;

use super::verdict_class;
use crate::html::row;

pub(super) fn verdict_line(out: &mut String, b: &BankResult) {
    let valid = if b.bad_count > 0 { Validity::Invalid } else { Validity::Valid };
    let _ = write!(
        out,
        "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> bank: {1} reads of all accounts after {2} acknowledged transfers ({3} failed, {4} indeterminate); {5} do not sum to {6} or have a negative balance</p>",
        verdict_class(valid),
        b.reads,
        b.transfers[0],
        b.transfers[1],
        b.transfers[2],
        b.bad_count,
        b.total
    );
}

pub(super) fn sections(out: &mut String, b: &BankResult) {
    if b.bad_reads.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section><h2>Bank: reads that break the invariant ({})</h2><p class=\"note\">every read must sum to {}, with no negative balance; the worst is off by {}.</p>\
         <table class=\"numbers\"><thead><tr><th>read (index)</th><th>balances</th><th>sum</th><th>off by</th><th>node</th><th>at</th></tr></thead><tbody>",
        b.bad_count, b.total, b.worst_off_by
    );
    for r in &b.bad_reads {
        let balances: Vec<String> = r.balances.iter().map(i64::to_string).collect();
        row(
            out,
            &[
                &r.index.to_string(),
                &balances.join(" "),
                &r.sum.to_string(),
                &format!("{:+}", r.off_by),
                r.node.as_deref().unwrap_or(""),
                &format!("{:.3} s", r.time as f64 / 1e9),
            ],
        );
    }
    out.push_str("</tbody></table></section>\n");
}

pub(super) fn explain(b: &BankResult) -> String {
    let mut out = String::new();
    if b.bad_count == 0 {
        let _ = writeln!(
            out,
            "valid: bank: all {} reads sum to {}, no negative balance ({} transfers acknowledged)",
            b.reads, b.total, b.transfers[0]
        );
        return out;
    }
    let _ = writeln!(
        out,
        "invalid: bank: {} of {} reads do not sum to {} or have a negative balance (worst off by {})",
        b.bad_count, b.reads, b.total, b.worst_off_by
    );
    for r in b.bad_reads.iter().take(10) {
        let balances: Vec<String> = r.balances.iter().map(i64::to_string).collect();
        let _ = writeln!(
            out,
            "  read at history index {} ({:.3} s): [{}] sums to {} ({:+})",
            r.index,
            r.time as f64 / 1e9,
            balances.join(", "),
            r.sum,
            r.off_by
        );
    }
    out
}
