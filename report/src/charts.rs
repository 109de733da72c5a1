//! The charts that stay small whatever the history's size, as inline SVG: throughput over time
//! (with the fault windows shaded and labelled) and latency quantiles per operation.

use std::fmt::Write;

use history::Outcome;

use crate::html::{esc, row};
use crate::ops::Drawn;

pub const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 180.0;
pub const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;

/// Completions per second over time, one line per outcome, faults shaded.
pub fn throughput_svg(drawn: &Drawn) -> String {
    let span_s = (drawn.span as f64 / 1e9).max(0.001);
    let bins = ((span_s / 0.1).ceil() as usize).clamp(1, 240);
    let bin_s = span_s / bins as f64;
    let mut counts = [vec![0u32; bins], vec![0u32; bins], vec![0u32; bins]];
    for o in &drawn.ops {
        if let Some(end) = o.end {
            let b = ((end as f64 / 1e9 / bin_s) as usize).min(bins - 1);
            counts[outcome_index(o.outcome)][b] += 1;
        }
    }
    let peak = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64 / bin_s;
    let x = |s: f64| LEFT + s / span_s * (WIDTH - LEFT - 8.0);
    let y = |rate: f64| (HEIGHT - BOTTOM) - rate / peak * (HEIGHT - BOTTOM - 14.0);
    let mut svg = String::new();
    let _ = write!(svg, r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="throughput over time">"#);
    fault_shading(&mut svg, drawn, x, HEIGHT - BOTTOM);
    axes(&mut svg, span_s, x, HEIGHT - BOTTOM);
    let _ = write!(svg, r#"<text class="axis" x="4" y="12">{:.0}/s</text>"#, peak);
    for (i, class) in ["ok", "fail", "info"].iter().enumerate() {
        let points: Vec<String> =
            counts[i].iter().enumerate().map(|(b, &c)| format!("{:.1},{:.1}", x((b as f64 + 0.5) * bin_s), y(c as f64 / bin_s))).collect();
        let _ = write!(svg, r#"<polyline class="line {class}" points="{}"/>"#, points.join(" "));
    }
    svg.push_str("</svg>");
    svg
}

/// Shaded rectangles for the fault windows, each labelled with its fault.
pub fn fault_shading(svg: &mut String, drawn: &Drawn, x: impl Fn(f64) -> f64, bottom: f64) {
    for (i, w) in drawn.faults.iter().enumerate() {
        let (x0, x1) = (x(w.start as f64 / 1e9), x(w.end as f64 / 1e9));
        let _ = write!(
            svg,
            r#"<g class="fault"><rect x="{x0:.1}" y="0" width="{:.1}" height="{bottom:.1}"><title>{} {:.1}–{:.1} s</title></rect><text x="{:.1}" y="{}">{}</text></g>"#,
            (x1 - x0).max(1.0),
            esc(&w.name),
            w.start as f64 / 1e9,
            w.end as f64 / 1e9,
            x0 + 3.0,
            12 + 12 * (i % 2),
            esc(&w.name)
        );
    }
}

/// The time axis, in seconds.
pub fn axes(svg: &mut String, span_s: f64, x: impl Fn(f64) -> f64, bottom: f64) {
    let _ = write!(svg, r#"<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}"/>"#, WIDTH - 8.0);
    let step = nice_step(span_s / 8.0);
    let mut t = 0.0;
    while t <= span_s + 1e-9 {
        let _ = write!(svg, r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}s</text>"#, x(t), bottom + 15.0, trim(t, step));
        t += step;
    }
}

/// `t` with as many decimals as the tick step needs.
fn trim(t: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{t:.decimals$}")
}

/// 1, 2 or 5 × a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1e-3);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(10.0 * p)
}

fn outcome_index(o: Outcome) -> usize {
    match o {
        Outcome::Ok => 0,
        Outcome::Fail => 1,
        Outcome::Info => 2,
    }
}

/// A table: per operation, count and latency quantiles of its `ok` completions.
pub fn latency_table(drawn: &Drawn) -> String {
    let mut by_f: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
    for o in &drawn.ops {
        if let (Outcome::Ok, Some(end)) = (o.outcome, o.end) {
            by_f.entry(o.f.as_str()).or_default().push(end - o.start);
        }
    }
    let mut all: Vec<u64> = by_f.values().flatten().copied().collect();
    let mut out = String::from(
        "<table class=\"numbers\"><thead><tr><th>op</th><th>ok</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr></thead><tbody>\n",
    );
    let mut line = |name: &str, v: &mut Vec<u64>| {
        v.sort_unstable();
        let q = |p: f64| {
            v.get(((v.len() as f64 - 1.0) * p).round() as usize).map(|&ns| format!("{:.1} ms", ns as f64 / 1e6)).unwrap_or_default()
        };
        row(&mut out, &[name, &v.len().to_string(), &q(0.5), &q(0.9), &q(0.99), &q(1.0)]);
    };
    for (f, v) in by_f.iter_mut() {
        line(f, v);
    }
    line("all", &mut all);
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::{nice_step, trim};

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(12.0), 20.0);
    }

    #[test]
    fn tick_labels_keep_the_decimals_their_step_needs() {
        assert_eq!(trim(10.0, 5.0), "10");
        assert_eq!(trim(0.004, 0.002), "0.004");
    }
}
