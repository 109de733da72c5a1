//! The list-append (Elle) checker's part: which anomalies were found and which the model
//! forbids, and each listed anomaly explained step by step, its cycle drawn as a ring of
//! transactions with the dependency on every arrow.

use std::fmt::Write;

use checkers::elle::{Anomaly, ElleResult, Relation};
use history::Validity;

use super::verdict_class;
use crate::html::esc;

fn verdict(r: &ElleResult) -> Validity {
    if !r.prohibited.is_empty() {
        Validity::Invalid
    } else if r.cause.is_some() {
        Validity::Unknown
    } else {
        Validity::Valid
    }
}

fn found(r: &ElleResult) -> String {
    if r.counts.is_empty() {
        return "no anomalies".into();
    }
    r.counts.iter().map(|(name, n)| format!("{name} ×{n}")).collect::<Vec<_>>().join(", ")
}

pub(super) fn verdict_line(out: &mut String, r: &ElleResult) {
    let valid = verdict(r);
    let forbidden = if r.prohibited.is_empty() { String::new() } else { format!("; {} forbids {}", r.model, r.prohibited.join(", ")) };
    let _ = write!(
        out,
        "<p class=\"verdict {0}\"><span class=\"badge\">{0}</span> list-append ({1}): {2} transactions ok, {3} failed, {4} indeterminate ({5} read, so committed); {6}{7}{8}</p>",
        verdict_class(valid),
        esc(r.model.name()),
        r.txns[0],
        r.txns[1],
        r.txns[2],
        r.info_committed,
        esc(&found(r)),
        esc(&forbidden),
        r.cause.as_ref().map(|c| format!(" — unknown: {}", esc(c))).unwrap_or_default()
    );
}

fn label(rel: Relation) -> &'static str {
    match rel {
        Relation::Ww => "ww",
        Relation::Wr => "wr",
        Relation::Rw => "rw",
        Relation::Process => "process",
        Relation::Realtime => "realtime",
    }
}

/// The cycle as a ring: T1 at the top, clockwise, an arrow per dependency.
fn drawing(out: &mut String, a: &Anomaly) {
    let n = a.txns.len();
    if a.cycle.is_empty() || n > 16 {
        return;
    }
    let (cx, cy, radius) = (170.0_f64, 120.0_f64, if n <= 2 { 60.0 } else { 85.0 });
    let at = |i: usize| {
        let angle = -std::f64::consts::FRAC_PI_2 + 2.0 * std::f64::consts::PI * i as f64 / n as f64;
        (cx + radius * angle.cos(), cy + radius * angle.sin())
    };
    let _ = write!(
        out,
        "<svg class=\"cycle\" width=\"340\" height=\"240\" viewBox=\"0 0 340 240\" role=\"img\" aria-label=\"{}\">\
         <defs><marker id=\"elle-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>",
        esc(&a.name())
    );
    for step in &a.cycle {
        let ((x1, y1), (x2, y2)) = (at(step.from), at(step.to));
        // Two transactions: bend the two arrows apart (the normal below flips with the
        // direction, so one bend sends them to opposite sides).
        let bend = if n == 2 { 30.0 } else { 12.0 };
        let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (dy / len, -dx / len);
        let (qx, qy) = (mx + nx * bend, my + ny * bend);
        // Stop short of the circles.
        let shorten = |x: f64, y: f64, tx: f64, ty: f64| {
            let (ddx, ddy) = (tx - x, ty - y);
            let l = (ddx * ddx + ddy * ddy).sqrt().max(1.0);
            (x + ddx / l * 18.0, y + ddy / l * 18.0)
        };
        let (sx, sy) = shorten(x1, y1, qx, qy);
        let (ex, ey) = shorten(x2, y2, qx, qy);
        let class = label(step.relation);
        let text = match &step.key {
            Some(k) => format!("{class} {k}"),
            None => class.to_string(),
        };
        let _ = write!(
            out,
            "<path class=\"edge {class}\" d=\"M{sx:.1},{sy:.1} Q{qx:.1},{qy:.1} {ex:.1},{ey:.1}\" fill=\"none\" stroke=\"currentColor\" marker-end=\"url(#elle-arrow)\"><title>{}</title></path>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            esc(&step.because),
            qx + nx * 10.0,
            qy + ny * 10.0 + 4.0,
            esc(&text)
        );
    }
    for (i, t) in a.txns.iter().enumerate() {
        let (x, y) = at(i);
        let _ = write!(
            out,
            "<g class=\"txn\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"16\" fill=\"#fff\" stroke=\"currentColor\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text><title>{}</title></g>",
            y + 4.0,
            esc(&t.name),
            esc(&format!("history index {}: {}", t.index, t.value))
        );
    }
    out.push_str("</svg>");
}

pub(super) fn sections(out: &mut String, r: &ElleResult) {
    if r.anomalies.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section><h2>Transactional anomalies ({})</h2><p class=\"note\">checked as {}: the version order of each key is its longest read; \
         ww, wr and rw dependencies between committed transactions{} form a graph, and a cycle in it means no serial order explains what the \
         transactions saw. At most {} of each kind are drawn; groups of transactions that depend on each other in a circle: {} (the largest has {}).</p>",
        esc(&found(r)),
        esc(r.model.name()),
        match r.model {
            checkers::elle::ConsistencyModel::StrictSerializable => ", plus real-time and process order,",
            checkers::elle::ConsistencyModel::StrongSessionSerializable => ", plus process order,",
            _ => "",
        },
        checkers::elle::LISTED,
        r.components,
        r.largest_component
    );
    for a in &r.anomalies {
        let (class, note) = if a.prohibited { ("invalid", "forbidden") } else { ("valid", "allowed by the model") };
        let _ = write!(
            out,
            "<div class=\"anomaly\"><h3><span class=\"verdict {class}\"><span class=\"badge\">{}</span></span> {} — {}</h3>",
            esc(&a.name()),
            esc(note),
            esc(a.class.meaning())
        );
        drawing(out, a);
        out.push_str("<ol class=\"explanation\">");
        for line in &a.explanation {
            let _ = write!(out, "<li>{}</li>", esc(line));
        }
        out.push_str("</ol></div>\n");
    }
    out.push_str("</section>\n");
}

pub(super) fn explain(r: &ElleResult) -> String {
    let mut out = String::new();
    let valid = verdict(r);
    let _ = writeln!(
        out,
        "{}: list-append as {}: {} ({} transactions ok; {} group{} of transactions in a cycle){}",
        valid.as_str(),
        r.model,
        found(r),
        r.txns[0],
        r.components,
        if r.components == 1 { "" } else { "s" },
        if r.prohibited.is_empty() { String::new() } else { format!("; forbidden: {}", r.prohibited.join(", ")) }
    );
    if let Some(cause) = &r.cause {
        let _ = writeln!(out, "  unknown because: {cause}");
    }
    for a in r.anomalies.iter().filter(|a| a.prohibited).take(3) {
        let _ = writeln!(out, "\n{} ({})", a.name(), a.class.meaning());
        for line in &a.explanation {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}
