//! Availability per fault window: the summary's faults table, and one line in words.

use checkers::availability::AvailabilityResult;

use crate::html::{row, seconds, short};
use crate::ops::Drawn;

/// The faults table. With the availability result, its windows and figures; without one (a
/// checked history), the history's windows alone.
pub(crate) fn faults_table(out: &mut String, availability: Option<&AvailabilityResult>, drawn: &Drawn) {
    out.push_str("<h3>Faults</h3>");
    if drawn.faults.is_empty() && availability.is_none_or(|a| a.windows.is_empty()) {
        out.push_str("<p>None injected.</p>");
        return;
    }
    out.push_str("<table class=\"numbers\"><thead><tr><th>fault</th><th>from</th><th>to</th><th>ok rate</th><th>longest without ok</th><th>heal to first ok</th><th>detail</th></tr></thead><tbody>\n");
    let at = |ns: u64| format!("{:.1} s", ns.saturating_sub(drawn.t0) as f64 / 1e9);
    match availability {
        Some(a) => {
            for w in &a.windows {
                let pct = w.success_rate.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_default();
                row(
                    out,
                    &[
                        &w.window.fault,
                        &at(w.window.start),
                        &at(w.window.end),
                        &pct,
                        &seconds(w.longest_without_ok_s),
                        &w.heal_to_first_ok_s.map(seconds).unwrap_or_default(),
                        &short(&w.window.detail, 90),
                    ],
                );
            }
        }
        None => {
            for w in &drawn.faults {
                let from = format!("{:.1} s", w.start as f64 / 1e9);
                let to = format!("{:.1} s", w.end as f64 / 1e9);
                row(out, &[&w.name, &from, &to, "", "", "", &short(&w.detail, 90)]);
            }
        }
    }
    out.push_str("</tbody></table>");
}

/// One line: how many windows, and the ok rate in each.
pub(super) fn explain(a: &AvailabilityResult) -> String {
    if a.windows.is_empty() {
        return String::new();
    }
    let rates: Vec<String> = a.windows.iter().map(|w| w.success_rate.map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0))).collect();
    format!("faults: {} windows; ok rate during faults: {}\n", a.windows.len(), rates.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkers::availability::WindowAvailability;
    use history::faults::Window;

    #[test]
    fn the_table_shows_each_window_with_its_figures() {
        let window = Window {
            fault: "partition".into(),
            start: 2_000_000_000,
            end: 4_500_000_000,
            stopped: true,
            detail: serde_json::json!({"shape": "<b>"}),
        };
        let a = AvailabilityResult {
            windows: vec![WindowAvailability {
                window,
                completed: 10,
                success_rate: Some(0.25),
                longest_without_ok_s: 1.5,
                heal_to_first_ok_s: Some(0.2),
            }],
        };
        let drawn = Drawn::new(&history::History::default()).unwrap();
        let mut out = String::new();
        faults_table(&mut out, Some(&a), &drawn);
        assert!(out.contains("<tr><td>partition</td><td>2.0 s</td><td>4.5 s</td><td>25%</td><td>1.5 s</td><td>200 ms</td>"), "{out}");
        assert!(out.contains("&lt;b&gt;") && !out.contains("<b>"), "escaped: {out}");
        assert_eq!(explain(&a), "faults: 1 windows; ok rate during faults: 25%\n");
    }
}
