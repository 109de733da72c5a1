//! A campaign's page: its verdict, a grid of every test's outcome with a link to its report,
//! and the comparison with the previous campaign of the same name — new failures, fixed, still
//! failing, and how each test's duration and throughput changed. Written beside the campaign's
//! record, `store/campaigns/<name>/<timestamp>/index.html`; run links are relative to it.

use std::collections::BTreeMap;
use std::fmt::Write;

use history::Validity;
use results::{CampaignRecord, CampaignTest, ConfigView};

use crate::html::{esc, row, seconds};

/// From the campaign's directory to the store.
const TO_STORE: &str = "../../..";

fn badge(t: &CampaignTest<ConfigView>) -> String {
    let (class, text) = match (t.passed, t.verdict) {
        (true, Some(v)) => (if v == Validity::Valid { "valid" } else { "caught" }, v.as_str()),
        (false, Some(Validity::Unknown)) => ("unknown", "unknown"),
        (false, Some(v)) => ("invalid", v.as_str()),
        (false, None) | (true, None) => ("unknown", "no verdict"),
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(text))
}

fn change(before: f64, after: f64) -> String {
    if before <= 0.0 {
        return String::new();
    }
    format!("{:+.0}%", 100.0 * (after - before) / before)
}

/// The page.
pub fn render(record: &CampaignRecord<ConfigView>, previous: Option<&CampaignRecord<ConfigView>>) -> String {
    let mut out = String::new();
    let verdict = record.verdict();
    let passed = record.tests.iter().filter(|t| t.passed).count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>campaign {0} — faultline</title><style>{1}</style></head><body>\
         <header><h1>campaign {0}</h1><p class=\"sub\">started {2}{3}{4}</p></header><main>\
         <section class=\"summary\"><p class=\"verdict {5}\"><span class=\"badge\">{5}</span> {6} of {7} test(s) as expected{8}{9}</p></section>\n",
        esc(&record.name),
        crate::CSS,
        esc(&record.started),
        record.finished.as_ref().map(|f| format!(", finished {}", esc(f))).unwrap_or_else(|| if record.interrupted { ", interrupted".into() } else { ", unfinished".into() }),
        record.shard.map(|(i, n)| format!(", shard {i}/{n}")).unwrap_or_default(),
        verdict.as_str(),
        passed,
        record.tests.len(),
        if record.skipped.is_empty() { String::new() } else { format!("; {} skipped (time budget)", record.skipped.len()) },
        if record.interrupted { "; interrupted: `--resume` runs the rest" } else { "" },
    );
    grid(&mut out, record);
    out.push_str("<section><h2>Tests</h2><table class=\"numbers runs\"><thead><tr><th>test</th><th>expected</th><th>verdict</th><th>duration</th><th>ops/s</th><th>first violation</th><th>report</th><th>cause</th></tr></thead><tbody>\n");
    for t in &record.tests {
        let report = t.run_dir.as_ref().map(|d| format!("<a href=\"{TO_STORE}/{}/report.html\">report</a>", esc(d))).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{report}</td><td>{}</td></tr>",
            if t.passed { "valid" } else { "invalid" },
            esc(&t.id),
            t.expect.as_str(),
            badge(t),
            seconds(t.duration_seconds),
            t.ops_per_second.map(|o| format!("{o:.0}")).unwrap_or_default(),
            t.first_violation_seconds.map(seconds).unwrap_or_default(),
            esc(t.cause.as_deref().unwrap_or("")),
        );
    }
    for s in &record.skipped {
        let _ = writeln!(
            out,
            "<tr class=\"unknown\"><td>{}</td><td></td><td>skipped</td><td></td><td></td><td></td><td></td><td>{}</td></tr>",
            esc(&s.id),
            esc(&s.reason)
        );
    }
    out.push_str("</tbody></table></section>\n");
    match previous {
        Some(before) => comparison(&mut out, before, record),
        None => out.push_str("<section><h2>Compared with the previous campaign</h2><p>This is the first finished campaign of this name in the store.</p></section>\n"),
    }
    out.push_str("</main></body></html>\n");
    out
}

/// A test's row (its entry, target, workload and faults) and column (seed and repeat) in the grid.
fn grid_place(id: &str) -> (&str, &str) {
    match id.find("/seed-") {
        Some(at) => (&id[..at], &id[at + 1..]),
        None => (id, ""),
    }
}

/// One row per entry × target × workload × faults, one column per seed and repeat; each cell the
/// verdict, linking to the run's report.
fn grid(out: &mut String, record: &CampaignRecord<ConfigView>) {
    let mut columns: Vec<&str> = Vec::new();
    let mut rows: Vec<(&str, BTreeMap<&str, &CampaignTest<ConfigView>>)> = Vec::new();
    for t in &record.tests {
        let (row_name, column) = grid_place(&t.id);
        if !columns.contains(&column) {
            columns.push(column);
        }
        match rows.iter_mut().find(|(r, _)| *r == row_name) {
            Some((_, cells)) => {
                cells.insert(column, t);
            }
            None => rows.push((row_name, BTreeMap::from([(column, t)]))),
        }
    }
    columns.sort_by_key(|c| {
        let seed: u64 = c.trim_start_matches("seed-").split('/').next().and_then(|n| n.parse().ok()).unwrap_or(u64::MAX);
        (seed, c.to_string())
    });
    out.push_str("<section><h2>Verdicts</h2><table class=\"grid\"><thead><tr><th>test</th>");
    for c in &columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (name, cells) in &rows {
        let _ = write!(out, "<tr><td>{}</td>", esc(name));
        for c in &columns {
            match cells.get(c) {
                Some(t) => {
                    let cell = match &t.run_dir {
                        Some(d) => format!("<a href=\"{TO_STORE}/{}/report.html\" title=\"{}\">{}</a>", esc(d), esc(&t.id), badge(t)),
                        None => badge(t),
                    };
                    let _ = write!(out, "<td>{cell}</td>");
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table><p class=\"sub\">A bug that was expected and caught shows as <span class=\"badge caught\">invalid</span> in green; a red cell is a test that did not get its expected verdict.</p></section>\n");
}

fn comparison(out: &mut String, before: &CampaignRecord<ConfigView>, now: &CampaignRecord<ConfigView>) {
    let old: BTreeMap<&str, &CampaignTest<ConfigView>> = before.tests.iter().map(|t| (t.id.as_str(), t)).collect();
    let (mut new_failures, mut fixed, mut still, mut new_tests) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in &now.tests {
        match (old.get(t.id.as_str()), t.passed) {
            (Some(o), false) if o.passed => new_failures.push(t.id.as_str()),
            (Some(o), true) if !o.passed => fixed.push(t.id.as_str()),
            (Some(_), false) => still.push(t.id.as_str()),
            (None, _) => new_tests.push(t.id.as_str()),
            _ => {}
        }
    }
    let current: std::collections::BTreeSet<&str> = now.tests.iter().map(|t| t.id.as_str()).collect();
    let gone: Vec<&str> = before.tests.iter().map(|t| t.id.as_str()).filter(|id| !current.contains(id)).collect();
    let _ = write!(out, "<section><h2>Compared with the previous campaign ({})</h2><table class=\"kv\">", esc(&before.started));
    for (what, ids) in
        [("new failures", &new_failures), ("fixed", &fixed), ("still failing", &still), ("new tests", &new_tests), ("no longer run", &gone)]
    {
        row(out, &[what, &if ids.is_empty() { "none".to_string() } else { ids.join(", ") }]);
    }
    out.push_str("</table><table class=\"numbers\"><thead><tr><th>test</th><th>duration before</th><th>now</th><th>change</th><th>ops/s before</th><th>now</th><th>change</th></tr></thead><tbody>");
    for t in &now.tests {
        let Some(o) = old.get(t.id.as_str()) else { continue };
        let (ob, on) = (o.ops_per_second.unwrap_or(0.0), t.ops_per_second.unwrap_or(0.0));
        row(
            out,
            &[
                &t.id,
                &seconds(o.duration_seconds),
                &seconds(t.duration_seconds),
                &change(o.duration_seconds, t.duration_seconds),
                &format!("{ob:.0}"),
                &format!("{on:.0}"),
                &change(ob, on),
            ],
        );
    }
    out.push_str("</tbody></table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(id: &str, passed: bool, verdict: Validity, duration: f64) -> CampaignTest<ConfigView> {
        CampaignTest {
            id: id.into(),
            group: 0,
            expect: Validity::Valid,
            verdict: Some(verdict),
            passed,
            cause: (!passed).then(|| "<cause>".to_string()),
            duration_seconds: duration,
            ops_per_second: Some(100.0),
            first_violation_seconds: None,
            run_dir: Some(format!("demo/{id}")),
            config: Default::default(),
        }
    }

    fn record(tests: Vec<CampaignTest<ConfigView>>) -> CampaignRecord<ConfigView> {
        CampaignRecord {
            name: "nightly".into(),
            file: "n.toml".into(),
            started: "2026-12-01".into(),
            finished: Some("x".into()),
            shard: None,
            tests,
            skipped: vec![],
            interrupted: false,
        }
    }

    #[test]
    fn the_grid_links_each_report_and_the_comparison_names_what_changed() {
        let before = record(vec![
            test("a", true, Validity::Valid, 10.0),
            test("b", false, Validity::Invalid, 10.0),
            test("c", false, Validity::Invalid, 10.0),
        ]);
        let now = record(vec![
            test("a", false, Validity::Invalid, 15.0),
            test("b", true, Validity::Valid, 10.0),
            test("c", false, Validity::Invalid, 10.0),
            test("d", true, Validity::Valid, 1.0),
        ]);
        let page = render(&now, Some(&before));
        assert!(page.contains("<a href=\"../../../demo/a/report.html\">report</a>"));
        assert!(page.contains("<tr><td>new failures</td><td>a</td></tr>"), "{page}");
        assert!(page.contains("<tr><td>fixed</td><td>b</td></tr>"));
        assert!(page.contains("<tr><td>still failing</td><td>c</td></tr>"));
        assert!(page.contains("<tr><td>new tests</td><td>d</td></tr>"));
        assert!(page.contains("<td>+50%</td>"), "a's duration went from 10 s to 15 s");
        assert!(page.contains("&lt;cause&gt;") && !page.contains("<cause>"), "escaped");
        let page = render(&before, Some(&now));
        assert!(page.contains("<tr><td>no longer run</td><td>d</td></tr>"), "{page}");
    }

    #[test]
    fn the_grid_has_a_row_per_configuration_and_a_column_per_seed() {
        let mut caught = test("g1/bundled[stale-read]/register/partition/seed-2", true, Validity::Invalid, 5.0);
        caught.expect = Validity::Invalid;
        let now = record(vec![
            test("g0/bundled/register/kill/seed-10", true, Validity::Valid, 5.0),
            test("g0/bundled/register/kill/seed-2", false, Validity::Unknown, 5.0),
            caught,
        ]);
        let page = render(&now, None);
        let grid = &page[page.find("<h2>Verdicts</h2>").unwrap()..page.find("<h2>Tests</h2>").unwrap()];
        assert!(grid.contains("<th>test</th><th>seed-2</th><th>seed-10</th>"), "numeric order: {grid}");
        assert!(grid.contains(
            "<tr><td>g0/bundled/register/kill</td>\
             <td><a href=\"../../../demo/g0/bundled/register/kill/seed-2/report.html\" title=\"g0/bundled/register/kill/seed-2\"><span class=\"badge unknown\">unknown</span></a></td>\
             <td><a href=\"../../../demo/g0/bundled/register/kill/seed-10/report.html\" title=\"g0/bundled/register/kill/seed-10\"><span class=\"badge valid\">valid</span></a></td></tr>"
        ), "{grid}");
        assert!(grid.contains("<tr><td>g1/bundled[stale-read]/register/partition</td><td><a "), "{grid}");
        assert!(grid.contains("<span class=\"badge caught\">invalid</span></a></td><td></td></tr>"), "no seed-10 for it: {grid}");
    }
}
