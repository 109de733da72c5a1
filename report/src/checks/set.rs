//! The set checker's part: counts, the lost elements (when each was acknowledged, through which
//! node, during which fault), the unexpected, duplicated and recovered ones, and a picture of
//! the acknowledged adds over time with the lost ones in red and the fault windows shaded — so
//! a reader sees "acknowledged on the old primary during the partition, gone after the heal".

use std::fmt::Write;

use checkers::set::{SetKeyResult, SetResult};
use serde_json::Value;

use super::verdict_class;
use crate::charts::{axes, fault_shading, LEFT, WIDTH};
use crate::html::{esc, row, short};
use crate::ops::Drawn;

/// Elements listed per kind; the rest are counted.
const LISTED: usize = 200;

fn key_name(k: &SetKeyResult) -> String {
    k.key.as_ref().map(|k| format!("key {k}")).unwrap_or_else(|| "the set".to_string())
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

pub(super) fn verdict_line(out: &mut String, s: &SetResult) {
    for k in &s.keys {
        let _ = write!(
            out,
            "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> set ({1}): {2} of {3} adds acknowledged; the final read has {4}; \
             lost {5} ({6} of the acknowledged), unexpected {7}, duplicated {8}, recovered {9}{10}</p>",
            verdict_class(k.valid),
            esc(&key_name(k)),
            k.acknowledged,
            k.attempted,
            k.read,
            k.lost.len(),
            percent(k.lost.len(), k.acknowledged),
            k.unexpected.len(),
            k.duplicated.len(),
            k.recovered.len(),
            if k.read_time.is_none() { " — no final read succeeded, so nothing can be said" } else { "" }
        );
    }
}

fn list(out: &mut String, title: &str, items: &[Value]) {
    if items.is_empty() {
        return;
    }
    let shown: Vec<String> = items.iter().take(LISTED).map(|v| short(v, 40)).collect();
    let more = if items.len() > LISTED { format!(" … and {} more (results.json)", items.len() - LISTED) } else { String::new() };
    let _ = write!(out, "<p><strong>{}</strong> ({}): <code>{}</code>{}</p>", esc(title), items.len(), esc(&shown.join(" ")), esc(&more));
}

pub(super) fn sections(out: &mut String, s: &SetResult, drawn: &Drawn) {
    for k in &s.keys {
        let _ = write!(out, "<section class=\"set\"><h2>Set: {}</h2>", esc(&key_name(k)));
        out.push_str(&picture(k, drawn));
        out.push_str("<table class=\"kv\">");
        for (name, n) in [
            ("attempted", k.attempted),
            ("acknowledged", k.acknowledged),
            ("failed", k.failed),
            ("indeterminate", k.indeterminate),
            ("in the final read", k.read),
        ] {
            row(out, &[name, &n.to_string()]);
        }
        out.push_str("</table>");
        if !k.lost.is_empty() {
            let _ = write!(
                out,
                "<h3>Lost: acknowledged, then absent from the final read ({})</h3><table class=\"numbers\"><thead><tr><th>element</th><th>acknowledged</th><th>node</th><th>during</th></tr></thead><tbody>",
                k.lost.len()
            );
            for l in k.lost.iter().take(LISTED) {
                let during = l
                    .during
                    .as_ref()
                    .map(|(f, start)| format!("{f} (from {:.1} s)", start.saturating_sub(drawn.t0) as f64 / 1e9))
                    .unwrap_or_default();
                let at = format!("{:.3} s", l.acknowledged.saturating_sub(drawn.t0) as f64 / 1e9);
                row(out, &[&short(&l.element, 40), &at, l.node.as_deref().unwrap_or(""), &during]);
            }
            out.push_str("</tbody></table>");
            if k.lost.len() > LISTED {
                let _ = write!(out, "<p class=\"note\">… and {} more (results.json).</p>", k.lost.len() - LISTED);
            }
        }
        list(out, "Unexpected: read but never attempted, or reported failed", &k.unexpected);
        list(out, "Duplicated: read more than once", &k.duplicated);
        list(out, "Recovered: indeterminate adds the final read shows happened", &k.recovered);
        out.push_str("</section>\n");
    }
}

/// Acknowledged adds as ticks at the time they were acknowledged (green), the lost ones red
/// and taller, fault windows shaded, the final read as a line.
fn picture(k: &SetKeyResult, drawn: &Drawn) -> String {
    const HEIGHT: f64 = 120.0;
    let bottom = HEIGHT - 22.0;
    let span_s = (drawn.span as f64 / 1e9).max(0.001);
    let x = |s: f64| LEFT + s / span_s * (WIDTH - LEFT - 8.0);
    let rel = |ns: u64| ns.saturating_sub(drawn.t0) as f64 / 1e9;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart set-picture" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="acknowledged and lost adds over time">"#
    );
    fault_shading(&mut svg, drawn, x, bottom);
    axes(&mut svg, span_s, x, bottom);
    let lost: std::collections::BTreeSet<String> = k.lost.iter().map(|l| l.element.to_string()).collect();
    let mut path_ok = String::new();
    let mut path_lost = String::new();
    for (element, at) in &k.acknowledged_at {
        let px = x(rel(*at));
        if lost.contains(&element.to_string()) {
            let _ = write!(path_lost, "M{px:.1} 20v{:.1}", bottom - 24.0);
        } else {
            let _ = write!(path_ok, "M{px:.1} 56v{:.1}", bottom - 60.0);
        }
    }
    let _ = write!(svg, r#"<path class="tick ok" d="{path_ok}"/><path class="tick lost" d="{path_lost}"/>"#);
    if let Some(t) = k.read_time {
        let px = x(rel(t));
        let _ = write!(
            svg,
            r#"<line class="final-read" x1="{px:.1}" y1="4" x2="{px:.1}" y2="{bottom:.1}"><title>the final read</title></line>"#
        );
    }
    let _ = write!(svg, r#"<text class="axis" x="4" y="32">lost</text><text class="axis" x="4" y="72">kept</text></svg>"#);
    svg
}

pub(super) fn explain(s: &SetResult) -> String {
    let mut out = String::new();
    for k in &s.keys {
        let name = key_name(k);
        if k.read_time.is_none() {
            let _ = writeln!(out, "unknown: {name}: no final read succeeded ({} adds acknowledged)", k.acknowledged);
            continue;
        }
        let verdict = k.valid.as_str();
        let _ = writeln!(
            out,
            "{verdict}: {name}: {} of {} adds acknowledged, {} in the final read; lost {} ({}), unexpected {}, duplicated {}, recovered {}",
            k.acknowledged,
            k.attempted,
            k.read,
            k.lost.len(),
            percent(k.lost.len(), k.acknowledged),
            k.unexpected.len(),
            k.duplicated.len(),
            k.recovered.len()
        );
        if !k.lost.is_empty() {
            let shown: Vec<String> = k.lost.iter().take(20).map(|l| short(&l.element, 20)).collect();
            let _ = writeln!(out, "  lost: {}{}", shown.join(" "), if k.lost.len() > 20 { " …" } else { "" });
            let during: usize = k.lost.iter().filter(|l| l.during.is_some()).count();
            let _ = writeln!(out, "  {during} of the {} lost adds were acknowledged while a fault was active", k.lost.len());
        }
        for (what, items) in [("unexpected", &k.unexpected), ("duplicated", &k.duplicated)] {
            if !items.is_empty() {
                let shown: Vec<String> = items.iter().take(20).map(|v| short(v, 20)).collect();
                let _ = writeln!(out, "  {what}: {}", shown.join(" "));
            }
        }
    }
    out
}
