//! `faultline campaign` as CI runs it (issue 16): a campaign of short tests passes (a caught bug
//! counts as a pass), its JUnit file holds what a JUnit consumer requires, the exit code
//! follows the worst outcome, and an interrupted campaign, resumed, finishes the rest. Needs
//! root, iproute2 and iptables.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quick_xml::events::Event;

mod common;
use common::{text, Store};
use history::Validity;
use results::CampaignRecord;

fn campaign_file(store: &Store, name: &str, text: &str) -> String {
    std::fs::create_dir_all(&store.0).unwrap();
    let path = store.0.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The newest campaign record of this name in the store (its `latest` link), and its directory.
fn newest(store: &Store, name: &str) -> (std::path::PathBuf, CampaignRecord<serde_json::Value>) {
    let dir = std::fs::canonicalize(store.0.join("campaigns").join(name).join("latest")).expect("a latest campaign");
    let record = results::read_record(&dir.join("campaign.json")).unwrap();
    (dir, record)
}

/// The JUnit file's elements and their attributes, as an XML parser reads them.
fn junit(path: &std::path::Path) -> Vec<(String, Vec<(String, String)>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut elements = Vec::new();
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{}: not well-formed XML: {e}", path.display())) {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                let attrs = e
                    .attributes()
                    .map(|a| a.unwrap())
                    .map(|a| {
                        (
                            String::from_utf8_lossy(a.key.as_ref()).to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().to_string(),
                        )
                    })
                    .collect();
                elements.push((name, attrs));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    elements
}

fn attr<'a>(element: &'a (String, Vec<(String, String)>), key: &str) -> Option<&'a str> {
    element.1.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn a_campaign_passes_and_its_junit_is_well_formed() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let store = Store::new("campaign");
    let file = campaign_file(
        &store,
        "ci",
        "name = \"ci\"\n[defaults]\nnemesis_interval = 2\n\
         [[test]]\nworkloads = [\"register\", \"set\"]\nnemesis = [\"partition\"]\ntime_limit = 6\nseeds = 1\n\
         [[test]]\nworkload = \"counter\"\nnemesis = [\"kill\"]\ntime_limit = 6\n\
         [[test]]\nbug = [\"stale-read\"]\nnemesis = [\"partition\"]\npartition = \"one,halves\"\ntime_limit = 12\nexpect = \"invalid\"\n",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["campaign", &file, "--store", store.path()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "every test as expected: {}", text(&o));
    let (dir, record) = newest(&store, "ci");
    assert_eq!(record.tests.len(), 4);
    assert!(record.finished.is_some() && !record.interrupted);
    let caught = record.tests.iter().find(|t| t.expect == Validity::Invalid).unwrap();
    assert_eq!((caught.verdict, caught.passed), (Some(Validity::Invalid), true), "a caught bug is a pass");
    assert!(caught.first_violation_seconds.is_some());
    for t in &record.tests {
        let run = store.0.join(t.run_dir.as_ref().expect("each test has its run")).join("report.html");
        assert!(run.is_file(), "{}", run.display());
    }
    // JUnit: the elements and attributes a consumer requires (testsuites > testsuite >
    // testcase, with name, tests, failures, errors; testcase name, classname, time).
    let elements = junit(&dir.join("junit.xml"));
    assert_eq!(elements[0].0, "testsuites");
    let suite = elements.iter().find(|e| e.0 == "testsuite").expect("a testsuite");
    assert_eq!(attr(suite, "name"), Some("ci"));
    assert_eq!((attr(suite, "tests"), attr(suite, "failures"), attr(suite, "errors")), (Some("4"), Some("0"), Some("0")));
    let cases: Vec<_> = elements.iter().filter(|e| e.0 == "testcase").collect();
    assert_eq!(cases.len(), 4);
    for case in cases {
        assert!(attr(case, "name").is_some() && attr(case, "classname").is_some(), "{case:?}");
        assert!(attr(case, "time").and_then(|t| t.parse::<f64>().ok()).is_some_and(|t| t > 0.0), "{case:?}");
    }
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(page.contains("4 of 4 test(s) as expected"), "the campaign page");
}

/// An interrupted campaign keeps what finished and `--resume` runs the rest; a bug that is not
/// caught (a test expecting invalid that came out valid) makes the exit code 1 and a JUnit
/// failure.
#[test]
fn an_interrupted_campaign_resumes_and_the_exit_code_is_the_worst_outcome() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let store = Store::new("campaign-resume");
    let file = campaign_file(
        &store,
        "resume",
        "name = \"resume\"\n[[test]]\nnemesis = [\"partition\"]\ntime_limit = 6\nseeds = [1, 2]\n\
         [[test]]\nnemesis = [\"none\"]\ntime_limit = 4\nexpect = \"invalid\"\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["campaign", &file, "--store", store.path()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Interrupt once the first test is recorded.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let done = results::read_record::<CampaignRecord<serde_json::Value>>(&store.0.join("campaigns/resume/latest/campaign.json"))
            .is_ok_and(|r| !r.tests.is_empty());
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "the first test never finished");
        std::thread::sleep(Duration::from_millis(200));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "interrupted, nothing failed");
    let (_, record) = newest(&store, "resume");
    assert!(record.interrupted && record.finished.is_none());
    let kept = record.tests.len();
    assert!((1..3).contains(&kept), "{kept} test(s) kept");

    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["campaign", &file, "--store", store.path(), "--resume"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "the last test expected a bug that is not there: {}", text(&o));
    let (dir, record) = newest(&store, "resume");
    assert_eq!(record.tests.len(), 3, "resumed: the rest ran");
    assert!(record.finished.is_some());
    let elements = junit(&dir.join("junit.xml"));
    let suite = elements.iter().find(|e| e.0 == "testsuite").unwrap();
    assert_eq!(attr(suite, "failures"), Some("1"));
    assert!(elements.iter().any(|e| e.0 == "failure" && attr(e, "message") == Some("valid (expected invalid)")), "{elements:?}");
    // A bad campaign file is refused before anything runs.
    let bad = campaign_file(&store, "bad", "name = \"bad\"\n[[test]]\ntime_limt = 3\n");
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["campaign", &bad, "--store", store.path()]).output().unwrap();
    assert_eq!(o.status.code(), Some(254));
    assert!(text(&o).contains("test[0].time_limt"), "{}", text(&o));
    assert!(!store.0.join("campaigns/bad").exists());
}

/// A budget too small for any test: every test is listed as skipped (in the output and, as
/// skipped test cases, in JUnit), and the campaign exits 2 — it decided nothing. Runs nothing.
#[test]
fn a_budget_that_leaves_every_test_out_is_not_a_pass() {
    let store = Store::new("campaign-budget");
    let file = campaign_file(&store, "tiny", "name = \"tiny\"\nbudget_minutes = 0.05\n[[test]]\ntime_limit = 30\nseeds = 2\n");
    let o = Command::new(env!("CARGO_BIN_EXE_faultline")).args(["campaign", &file, "--store", store.path()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no test ran: the time budget left every one out"), "{}", text(&o));
    assert!(text(&o).contains("skipped: the time budget (0.1 min) would be exceeded"), "{}", text(&o));
    let (dir, record) = newest(&store, "tiny");
    assert_eq!((record.tests.len(), record.skipped.len()), (0, 2));
    let elements = junit(&dir.join("junit.xml"));
    assert_eq!(elements.iter().filter(|e| e.0 == "skipped").count(), 2, "{elements:?}");
}
