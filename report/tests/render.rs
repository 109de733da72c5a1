//! The report's content for a valid, an invalid and a hostile history.

use checkers::availability::Availability;
use checkers::models::ModelName;
use checkers::{CheckOptions, Checker, Compose, Linearizable};
use history::History;
use report::{render, ReportInput};

fn history(lines: &[&str]) -> History {
    History::read_jsonl("test.jsonl", lines.join("\n").as_bytes()).expect("a well-formed history")
}

/// The page for a history checked as a run checks it: linearizability and availability.
fn page(h: &History) -> String {
    let checker = Compose(vec![Box::new(Linearizable::new(ModelName::CasRegister)), Box::new(Availability)]);
    let result = checker.check(h, &CheckOptions { all_keys: true, ..CheckOptions::default() }).unwrap();
    render(&ReportInput {
        title: "t".into(),
        history: h,
        checks: Some(&result),
        test: None,
        run: None,
        node_logs: vec!["nodes/n1/node.log".into()],
    })
    .unwrap()
}

const STALE_READ: &[&str] = &[
    r#"{"index":0,"type":"invoke","process":0,"f":"write","key":"k1","value":1,"time":1000000}"#,
    r#"{"index":1,"type":"ok","process":0,"f":"write","key":"k1","value":1,"time":2000000}"#,
    r#"{"index":2,"type":"info","process":"nemesis","f":"start-partition","value":{"grudge":{"n1":["n2"]}},"time":2500000}"#,
    r#"{"index":3,"type":"invoke","process":1,"f":"write","key":"k1","value":2,"time":3000000}"#,
    r#"{"index":4,"type":"ok","process":1,"f":"write","key":"k1","value":2,"time":4000000}"#,
    r#"{"index":5,"type":"invoke","process":0,"f":"read","key":"k1","value":null,"time":5000000}"#,
    r#"{"index":6,"type":"ok","process":0,"f":"read","key":"k1","value":1,"time":6000000}"#,
    r#"{"index":7,"type":"info","process":"nemesis","f":"stop-partition","value":null,"time":7000000}"#,
    r#"{"index":8,"type":"invoke","process":1,"f":"read","key":"k2","value":null,"time":8000000}"#,
    r#"{"index":9,"type":"ok","process":1,"f":"read","key":"k2","value":null,"time":9000000}"#,
];

#[test]
fn an_invalid_history_shows_the_verdict_the_key_and_the_failing_op() {
    let html = page(&history(STALE_READ));
    assert!(html.contains(r#"<p class="verdict invalid"><span class="badge">invalid</span>"#), "verdict in colour");
    assert!(html.contains(r##"not linearizable: <a href="#failure-key-k1">key k1</a>"##), "the failing key, linked");
    assert!(html.contains(r#"<section class="failure" id="failure-key-k1">"#));
    // The failing op: in words, and drawn highlighted in the picture.
    assert!(html.contains("process 0: read -&gt; 1 (history index 5, line 6)"), "the op that cannot be linearized");
    assert!(html.contains(r#"<g class="op culprit">"#));
    // The prefix, numbered, with the state after each step.
    assert!(
        html.contains("<tr><td>1</td><td>process 0: write 1 -&gt; ok (history index 0, line 1)</td><td><code>1</code></td></tr>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>2</td><td>process 1: write 2 -&gt; ok (history index 3, line 4)</td><td><code>2</code></td></tr>"));
    // The other key was fine.
    assert!(html.contains(r#"<tr class="valid"><td>k2</td><td>valid</td>"#));
    assert!(html.contains(r#"<a href="nodes/n1/node.log">"#));
}

#[test]
fn fault_windows_are_shaded_and_labelled() {
    let html = page(&history(STALE_READ));
    // 1.5 ms to 6 ms after the first entry.
    assert!(html.contains(r#"<g class="fault"><rect"#), "shaded in the throughput chart");
    assert!(html.contains("<title>partition 0.0–0.0 s</title></rect><text"), "labelled");
    assert!(html.contains(r#">partition</text></g>"#));
    let island = &html[html.find(r#""faults":"#).unwrap()..];
    assert!(island.starts_with(r#""faults":[{"end":6.0,"name":"partition","start":1.5}]"#), "handed to the canvases: {}", &island[..80]);
    // Listed in the faults table with its availability figures: both completions inside the
    // window (the write at 4 ms, the read at 6 ms) were ok.
    assert!(
        html.contains("<tr><td>partition</td><td>0.0 s</td><td>0.0 s</td><td>100%</td>"),
        "listed in the faults table with its figures"
    );
}

#[test]
fn a_valid_history_says_valid_and_has_no_failure_section() {
    let lines: Vec<&str> = STALE_READ.iter().copied().filter(|l| !l.contains(r#""f":"read","key":"k1""#)).collect();
    let html = page(&history(&lines));
    assert!(html.contains(r#"<p class="verdict valid"><span class="badge">valid</span>"#));
    assert!(!html.contains(r#"class="failure""#));
    assert!(html.contains("<td>write</td><td>2</td><td>0</td><td>0</td>"), "op counts by f and type");
}

#[test]
fn a_hostile_history_renders_inert() {
    let evil = r#"</script><script>alert(1)</script><!-- \u2028 ' \" &amp;"#;
    let lines = [
        format!(r#"{{"index":0,"type":"invoke","process":0,"f":"write","key":"{evil}","value":"{evil}","time":1}}"#),
        format!(r#"{{"index":1,"type":"ok","process":0,"f":"write","key":"{evil}","value":"{evil}","time":2}}"#),
        format!(r#"{{"index":2,"type":"invoke","process":1,"f":"read","key":"{evil}","value":null,"time":3}}"#),
        format!(r#"{{"index":3,"type":"ok","process":1,"f":"read","key":"{evil}","value":"<img src=x onerror=alert(2)>","time":4}}"#),
        r#"{"index":4,"type":"info","process":"nemesis","f":"start-<b>bold</b>","value":"<script>x</script>","time":5}"#.to_string(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let h = history(&refs);
    let html = page(&h);
    // Exactly our two script elements, and nothing from the history as markup.
    assert_eq!(html.matches("<script").count(), 2, "only the data island and the script");
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(!html.contains("<img"), "no element from a value");
    assert!(!html.contains("<b>bold"), "no element from a nemesis op");
    assert!(!html.contains("<!--"), "no comment opened by a value");
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)"), "shown as text where it is text");
    // The data island still holds the values exactly.
    let marker = r#"<script type="application/json" id="data">"#;
    let start = html.find(marker).unwrap() + marker.len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(data["result"][1], "<img src=x onerror=alert(2)>");
    assert!(data["value"][0].as_str().unwrap().starts_with("</script><script>alert(1)</script><!-- \u{2028} '"), "{}", data["value"][0]);
}
