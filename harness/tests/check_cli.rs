//! `faultline check` as a user runs it: exit codes, words on stdout, JSON, and clear errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use checkers::synth::{generate, Spec, Workload};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline")).args(args).output().expect("faultline runs")
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples").join(name).display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch file that is removed when the test ends, even on failure.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, contents: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("faultline-test-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Scratch(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn valid_history_exits_0() {
    let o = faultline(&["check", &sample("cas-register-valid.jsonl"), "--model", "cas-register"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("valid: the history is linearizable"), "{}", stdout(&o));
}

#[test]
fn stale_read_exits_1_and_names_the_op() {
    let o = faultline(&["check", &sample("stale-read.jsonl")]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("invalid: not linearizable"), "{out}");
    assert!(out.contains("process 1: read -> 2 (history index 8, line 9)"), "{out}");
    assert!(out.contains("model cas-register (inferred"), "{out}");
}

#[test]
fn json_output_carries_the_evidence() {
    let o = faultline(&["check", &sample("stale-read.jsonl"), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["result"]["valid"], "invalid");
    let failure = &v["result"]["per_key"][0]["failure"];
    assert_eq!(failure["op"]["f"], "read");
    assert_eq!(failure["op"]["result"], 2);
    assert_eq!(failure["op"]["line"], 9);
    assert_eq!(failure["state"], 3);
    assert_eq!(failure["prefix"].as_array().unwrap().len(), 3);
}

#[test]
fn knossos_edn_with_init() {
    let o = faultline(&["check", &sample("knossos-cas.edn"), "--model", "cas-register", "--init", "0"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("(edn)"));
}

#[test]
fn an_op_the_model_does_not_know_exits_254_with_line_and_field() {
    let o = faultline(&["check", &sample("knossos-cas.edn"), "--model", "register"]);
    assert_eq!(o.status.code(), Some(254));
    let err = stderr(&o);
    assert!(err.contains("knossos-cas.edn:4: field `f`"), "{err}");
    assert!(err.contains("cas-register"), "{err}");
}

#[test]
fn bad_input_exits_254_with_a_clear_error() {
    let o = faultline(&["check", "/nonexistent/history.jsonl"]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("cannot read history file /nonexistent/history.jsonl"), "{}", stderr(&o));

    let empty = Scratch::new("empty.jsonl", "\n\n");
    let o = faultline(&["check", empty.path()]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));

    let bad = Scratch::new(
        "bad.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"value\":1,\"time\":\"soon\"}\n",
    );
    let o = faultline(&["check", bad.path(), "--model", "register"]);
    assert_eq!(o.status.code(), Some(254));
    let err = stderr(&o);
    assert!(err.contains("bad.jsonl:2: field `time`: invalid type"), "{err}");

    let bad = Scratch::new("bad.edn", "[{:process 0 :type :invoke :f :read}\n");
    let o = faultline(&["check", bad.path()]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("bad.edn:2: column"), "{}", stderr(&o));

    let o = faultline(&["check", &sample("stale-read.jsonl"), "--model", "nope"]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("expected one of register, cas-register"), "{}", stderr(&o));

    let o = faultline(&["check", &sample("stale-read.jsonl"), "--format", "xml"]);
    assert_eq!(o.status.code(), Some(254));

    let o = faultline(&["check", &sample("stale-read.jsonl"), "--model", "mutex", "--init", "3"]);
    assert_eq!(o.status.code(), Some(254));
}

/// 100k ops, 20 clients, 10% indeterminate: hard enough that tight limits are reached.
fn hard_history() -> Scratch {
    let spec =
        Spec { workload: Workload::CasRegister, ops: 100_000, clients: 20, keys: 1, info_rate: 0.1, values: 5, seed: 1, info_lag: 100 };
    let mut text = Vec::new();
    generate(&spec).write_jsonl(&mut text).unwrap();
    Scratch::new("hard.jsonl", &String::from_utf8(text).unwrap())
}

#[test]
fn limits_give_unknown_with_exit_2() {
    let hard = hard_history();
    let o = faultline(&["check", hard.path(), "--model", "cas-register", "--timeout", "0.3"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("unknown: the time limit was reached"), "{}", stdout(&o));

    // The budget covers the history too (about 3 bytes per byte of text, 12 MiB here): the
    // search gets what is left of 64 MiB and stops within it.
    let o = faultline(&["check", hard.path(), "--model", "cas-register", "--max-memory", "64M", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"]["cause"], "memory-budget");
    assert!(v["result"]["per_key"][0]["peak_bytes"].as_u64().unwrap() <= 64 << 20);
    // A budget the history alone would pass: unknown before the search, as JSON when asked.
    let o = faultline(&["check", hard.path(), "--model", "cas-register", "--max-memory", "16M", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["valid"].as_str(), v["cause"].as_str()), (Some("unknown"), Some("memory-budget")), "{v}");
}

fn porcupine(file: &str) -> Option<String> {
    let dir = std::env::var_os("FAULTLINE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join("porcupine").join(file);
    if path.exists() {
        return Some(path.display().to_string());
    }
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "labelled data missing at {}", path.display());
    eprintln!("SKIPPED: {} not found (set FAULTLINE_DATA)", path.display());
    None
}

#[test]
fn porcupine_files_are_detected_and_checked() {
    let Some(etcd) = porcupine("etcd/etcd_002.log") else { return };
    let o = faultline(&["check", &etcd]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("(porcupine-etcd)"));

    let Some(kv) = porcupine("kv/c50-bad.txt") else { return };
    let o = faultline(&["check", &kv, "--model", "kv", "--all-keys", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys = v["result"]["per_key"].as_array().unwrap();
    assert_eq!(keys.len(), 10);
    assert!(keys.iter().all(|k| k["valid"] != "unknown"), "every key decided");
}

/// Issue 10, item 1: two ops glued on one line (a lost newline) lost the second silently; here
/// the second is the read that makes the history invalid.
#[test]
fn glued_ops_are_an_error_naming_the_line() {
    let text = concat!(
        r#"{"type":"invoke","process":0,"f":"write","value":1}"#,
        "\n",
        r#"{"type":"ok","process":0,"f":"write","value":1}"#,
        "\n",
        r#"{"type":"invoke","process":1,"f":"read"}{"type":"ok","process":1,"f":"read","value":7}"#,
        "\n",
    );
    let file = Scratch::new("glued.jsonl", text);
    let o = faultline(&["check", file.path()]);
    assert_eq!(o.status.code(), Some(254), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("glued.jsonl:3:"), "{}", stderr(&o));
}

/// Issue 10, item 3: ops of a process named "1" or "a" were skipped: "0 ops ... valid".
#[test]
fn named_processes_other_than_the_nemesis_are_refused() {
    let file = Scratch::new(
        "named.jsonl",
        "{\"type\":\"invoke\",\"process\":\"a\",\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":\"a\",\"f\":\"read\",\"value\":3}\n",
    );
    let o = faultline(&["check", file.path(), "--model", "register"]);
    assert_eq!(o.status.code(), Some(254), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("named.jsonl:1: field `process`"), "{}", stderr(&o));
    let edn = Scratch::new("named.edn", "[{:process :b, :type :invoke, :f :read}\n {:process :b, :type :ok, :f :read, :value 3}]\n");
    let o = faultline(&["check", edn.path(), "--model", "register"]);
    assert_eq!(o.status.code(), Some(254), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("field `process`"), "{}", stderr(&o));
}

/// Issue 10, item 3: whatever the check leaves out is counted on the verdict's output.
#[test]
fn ops_left_out_of_the_check_are_counted() {
    let text = concat!(
        r#"{"type":"invoke","process":0,"f":"write","value":1}"#,
        "\n",
        r#"{"type":"fail","process":0,"f":"write","value":1}"#,
        "\n",
        r#"{"type":"info","process":"nemesis","f":"start-partition"}"#,
        "\n",
        r#"{"type":"invoke","process":1,"f":"read"}"#,
        "\n",
        r#"{"type":"info","process":1,"f":"read"}"#,
        "\n",
        r#"{"type":"invoke","process":2,"f":"read"}"#,
        "\n",
        r#"{"type":"ok","process":2,"f":"read","value":null}"#,
        "\n",
    );
    let file = Scratch::new("left-out.jsonl", text);
    let o = faultline(&["check", file.path(), "--model", "register"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("3 ops, 1 checked"), "{out}");
    assert!(
        out.contains(
            "not checked: 1 failed op (they did not happen), 1 indeterminate read with no known result (they constrain nothing), 1 nemesis op"
        ),
        "{out}"
    );
}

/// Issue 10, item 4: a damaged op line in a Jepsen log was skipped as chatter.
#[test]
fn damaged_jepsen_log_lines_are_errors() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util 1\t:ok\t:read\t7\n";
    let file = Scratch::new("damaged.log", text);
    let o = faultline(&["check", file.path(), "--format", "porcupine-etcd"]);
    assert_eq!(o.status.code(), Some(254), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("damaged.log:4:"), "{}", stderr(&o));
}

/// Issue 11, item 1: Knossos reads an `ok` read of nil as "unknown"; faultline read it as "the
/// register held nil" and called 89 of 113 Knossos-valid histories invalid. EDN now defaults
/// to Knossos's semantics, says so, and `--nil-read value` gives the other answer.
#[test]
fn edn_nil_reads_follow_knossos_and_can_be_counted() {
    let sample = sample("knossos-nil-reads.edn");
    let o = faultline(&["check", &sample, "--model", "cas-register"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("nil reads unknown (as Knossos"), "{}", stdout(&o));
    assert!(stdout(&o).contains("2 reads with no known result"), "{}", stdout(&o));
    let o = faultline(&["check", &sample, "--model", "cas-register", "--nil-read", "value"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("process 1: read -> nil"), "{}", stdout(&o));
    // The same history as JSONL keeps "nil is a value" unless told otherwise.
    let jsonl = Scratch::new(
        "nil.jsonl",
        concat!(
            r#"{"type":"invoke","process":0,"f":"write","value":1}"#,
            "\n",
            r#"{"type":"ok","process":0,"f":"write","value":1}"#,
            "\n",
            r#"{"type":"invoke","process":1,"f":"read"}"#,
            "\n",
            r#"{"type":"ok","process":1,"f":"read","value":null}"#,
            "\n",
        ),
    );
    assert_eq!(faultline(&["check", jsonl.path(), "--model", "register"]).status.code(), Some(1));
    assert_eq!(faultline(&["check", jsonl.path(), "--model", "register", "--nil-read", "unknown"]).status.code(), Some(0));
    // It means nothing for other models.
    let o = faultline(&["check", jsonl.path(), "--model", "set", "--nil-read", "unknown"]);
    assert_eq!(o.status.code(), Some(254), "{}", stderr(&o));
}

/// Issue 11, item 2: Jepsen's independent workloads write `[key value]` tuples; they are
/// unpacked (detected, and said so) so that the check splits per key.
#[test]
fn jepsen_independent_tuples_split_per_key() {
    let edn = Scratch::new(
        "independent.edn",
        "[{:process 0, :type :invoke, :f :write, :value [1 5]}\n\
          {:process 0, :type :ok, :f :write, :value [1 5]}\n\
          {:process 1, :type :invoke, :f :write, :value [2 7]}\n\
          {:process 1, :type :ok, :f :write, :value [2 7]}\n\
          {:process 0, :type :invoke, :f :read, :value [1 nil]}\n\
          {:process 0, :type :ok, :f :read, :value [1 5]}\n\
          {:process 1, :type :invoke, :f :read, :value [2 nil]}\n\
          {:process 1, :type :ok, :f :read, :value [2 5]}]\n",
    );
    let o = faultline(&["check", edn.path(), "--model", "register"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "key 2 read 5, which only key 1 held: {out}{}", stderr(&o));
    assert!(out.contains("independent [key value] pairs") && out.contains("2 keys"), "{out}");
    assert!(out.contains("key 2: no linearization can include"), "{out}");
    // Told not to unpack, the pairs are register values, which the model refuses by name.
    let o = faultline(&["check", edn.path(), "--model", "register", "--independent", "no"]);
    assert_eq!(o.status.code(), Some(254), "{}", stderr(&o));
    assert!(stderr(&o).contains("field `value`"), "{}", stderr(&o));
}

/// Issue 10, item 11: `/dev/zero` reached 4.5 GiB despite `--max-memory 64M`: reading is
/// within the budget now, and past it the answer is an honest unknown.
#[test]
fn reading_stays_within_the_memory_budget() {
    let started = std::time::Instant::now();
    let o = faultline(&["check", "/dev/zero", "--format", "jsonl", "--max-memory", "64M", "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("unknown: the memory budget was reached"), "{}", stdout(&o));
    assert!(started.elapsed().as_secs() < 20, "stopped early, not after gigabytes");
    // Without a budget that small, the 64 MiB line limit stops it.
    let o = faultline(&["check", "/dev/zero", "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(254), "{}", stderr(&o));
    assert!(stderr(&o).contains("/dev/zero:1: the line is longer than 64 MiB"), "{}", stderr(&o));
}

/// Issue 10, items 15 and 16: `-` is standard input; a torn last line is an error that says how
/// to check the rest, and with `--allow-torn-tail` a warning.
#[test]
fn stdin_and_torn_tails() {
    use std::io::Write;
    let whole = std::fs::read_to_string(sample("stale-read.jsonl")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["check", "-", "--format", "jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(whole.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "the same verdict from stdin");
    assert!(stdout(&o).starts_with("<stdin> (jsonl)"), "{}", stdout(&o));

    let torn = Scratch::new("torn.jsonl", &format!("{whole}{{\"type\":\"ok\",\"proc"));
    let o = faultline(&["check", torn.path()]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("--allow-torn-tail"), "{}", stderr(&o));
    let o = faultline(&["check", torn.path(), "--allow-torn-tail"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("an incomplete last line was left out"), "{}", stderr(&o));
}

/// Issue 10, item 13: a report that cannot be written no longer hides the verdict.
#[test]
fn the_verdict_comes_before_a_failed_report() {
    let o = faultline(&["check", &sample("stale-read.jsonl"), "--report", "/nonexistent/dir/r.html"]);
    assert_eq!(o.status.code(), Some(254), "{}", stderr(&o));
    assert!(stdout(&o).contains("invalid: not linearizable"), "{}", stdout(&o));
}

/// Issue 11, item 5: many histories in one process — files and directories (searched
/// recursively; what is not a history is skipped and counted), one line each, a summary, and
/// the worst exit code.
#[test]
fn many_files_and_directories_in_one_process() {
    let dir = std::env::temp_dir().join(format!("faultline-test-{}-many", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run-1")).unwrap();
    std::fs::copy(sample("cas-register-valid.jsonl"), dir.join("run-1/history.jsonl")).unwrap();
    std::fs::copy(sample("knossos-cas.edn"), dir.join("history.edn")).unwrap();
    // A Jepsen store's results.edn and notes are not histories.
    std::fs::write(dir.join("results.edn"), "{:valid? true, :linear {:valid? true}}\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "nothing to see\n").unwrap();

    let o = faultline(&["check", dir.to_str().unwrap(), &sample("stale-read.jsonl")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "one is invalid: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "a line per history and a summary: {out}");
    assert!(lines[0].starts_with("valid") && lines[0].contains("history.edn"), "{out}");
    assert!(lines[1].starts_with("valid") && lines[1].contains("run-1/history.jsonl"), "{out}");
    assert!(lines[2].starts_with("invalid") && lines[2].contains("stale-read.jsonl"), "{out}");
    assert!(lines[3].starts_with("3 histories in") && lines[3].contains("2 valid, 1 invalid, 0 unknown, 0 could not be read"), "{out}");
    assert!(lines[3].contains("2 other files skipped as not histories"), "{out}");

    // A file that cannot be read is named, the others are still checked, and it decides the
    // exit code.
    std::fs::write(dir.join("run-1/broken.jsonl"), "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":null}{\"x\":1}\n").unwrap();
    let o = faultline(&["check", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(254), "{out}");
    assert!(out.contains("error    ") && out.contains("broken.jsonl"), "{out}");
    assert!(out.contains("1 could not be read"), "{out}");
    // All valid: exit 0; --report wants a single file.
    let o = faultline(&["check", &sample("cas-register-valid.jsonl"), &sample("knossos-cas.edn")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = faultline(&["check", &sample("cas-register-valid.jsonl"), &sample("knossos-cas.edn"), "--report", "/tmp/x.html"]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("--report takes one history file"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--checker elle` on a Jepsen EDN list-append history: the anomaly named, the exit code per
/// model, typed JSON, and flags of the other checker refused.
#[test]
fn elle_names_the_anomaly_and_exits_per_consistency_model() {
    let file = sample("list-append-read-skew.edn");
    let o = faultline(&["check", "--checker", "elle", &file]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("forbidden: G-single"), "{}", stdout(&o));
    assert!(stdout(&o).contains("T1 < T2 (rw): T1 read key x = [] without 1, which T2 appended next"), "{}", stdout(&o));
    let o = faultline(&["check", "--checker", "elle", "--consistency-model", "read-committed", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = faultline(&["check", "--checker", "elle", "--json", &file]);
    #[derive(serde::Deserialize)]
    struct Out {
        valid: history::Validity,
        result: checkers::elle::ElleResult,
    }
    let out: Out = serde_json::from_slice(&o.stdout).expect("typed JSON");
    assert_eq!(out.valid, history::Validity::Invalid);
    assert_eq!(out.result.prohibited, ["G-single"]);
    assert_eq!(out.result.anomalies[0].cycle.len(), 2);
    for bad in [vec!["--model", "kv"], vec!["--consistency-model", "serialisable"]] {
        let mut args = vec!["check", "--checker", "elle"];
        args.extend(bad.iter().copied());
        args.push(&file);
        let o = faultline(&args);
        assert_eq!(o.status.code(), Some(254), "{args:?}: {}", stderr(&o));
    }
    let o = faultline(&["check", "--consistency-model", "serializable", &file]);
    assert_eq!(o.status.code(), Some(254));
    assert!(stderr(&o).contains("--consistency-model applies to --checker elle"), "{}", stderr(&o));
}
