//! Targets described in spec files (`--target-spec`), as a user writes them: the shipped etcd
//! spec reaches the built-in etcd target's verdicts on the same seeds, the bundled node as a
//! spec with a bug passed through is caught, every class of spec error is refused before
//! anything starts and names the TOML path, `faultline spec check` tries each operation, and
//! `--replay` repeats a spec run. The runs need root, iproute2, iptables (and etcd, which
//! scripts/test.sh installs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

mod common;
use common::{invocations, schedule, text, Store};
use history::Validity;

static SERIAL: Mutex<()> = Mutex::new(());

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline")).args(args).output().unwrap()
}

fn run(store: &Store, target: &[&str], seed: &str, extra: &[&str]) -> Output {
    let mut args = vec!["test", "--store", store.path(), "--seed", seed];
    args.extend_from_slice(target);
    args.extend_from_slice(extra);
    faultline(&args)
}

#[test]
fn the_etcd_spec_reaches_the_built_in_etcd_targets_verdicts_on_the_same_seeds() {
    if !common::can_run(&["ip", "iptables", "etcd"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let spec = example("etcd.toml");
    let spec = spec.to_str().unwrap();
    let faults = ["--nemesis", "partition,kill", "--nemesis-interval", "3", "--time-limit", "15"];
    for seed in ["3", "4"] {
        let (built_in, as_spec) = (Store::new(&format!("etcd-builtin-{seed}")), Store::new(&format!("etcd-spec-{seed}")));
        let a = run(&built_in, &["--target", "etcd"], seed, &faults);
        let b = run(&as_spec, &["--target-spec", spec], seed, &faults);
        assert_eq!(a.status.code(), b.status.code(), "seed {seed}:\n{}\n---\n{}", text(&a), text(&b));
        assert_eq!(b.status.code(), Some(0), "{}", text(&b));
        let (ra, rb) = (built_in.results(), as_spec.results());
        assert_eq!((ra.valid, rb.valid), (Validity::Valid, Validity::Valid));
        // The same seed drove the same faults at both.
        assert_eq!(schedule(&built_in.history()).len(), schedule(&as_spec.history()).len());
        assert!(rb.ops.ok > 300, "the spec's clients did work: {:?}", rb.ops);
        // The run records which spec ran, keeps a copy, and the version the spec asked for.
        let test = as_spec.test();
        assert_eq!(test.name, "etcd-spec-register");
        assert!(test.config.target_spec.is_some());
        assert!(test.target_version.as_deref().is_some_and(|v| v.contains("etcd Version")), "{:?}", test.target_version);
        let copy = std::fs::read_to_string(as_spec.0.join("latest/target-spec.toml")).unwrap();
        assert_eq!(copy, std::fs::read_to_string(spec).unwrap());
    }
}

#[test]
fn the_bundled_node_as_a_spec_is_linearizable_and_its_stale_read_bug_is_caught() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let spec = example("bundled.toml");
    let spec = spec.to_str().unwrap();
    let common = ["--nemesis", "partition", "--nemesis-interval", "3", "--rate", "150"];

    let correct = Store::new("bundled-spec-correct");
    let o = run(&correct, &["--target-spec", spec], "2", &[&common[..], &["--time-limit", "12"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(correct.results().ops.ok > 300);

    // The bug goes through the spec's [bugs] to the node's arguments.
    let buggy = Store::new("bundled-spec-stale");
    let o = run(&buggy, &["--target-spec", spec, "--bug", "stale-read"], "2", &[&common[..], &["--time-limit", "20"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(buggy.results().valid, Validity::Invalid);
    assert!(text(&o).contains("no linearization can include"), "{}", text(&o));
    let log = std::fs::read_to_string(buggy.0.join("latest/nodes/n1/node.log")).unwrap_or_default();
    assert!(log.contains("=== faultline: starting"), "the log marks each start:\n{log}");
    assert!(log.contains(" --bug stale-read ==="), "the node was started with the bug:\n{log}");

    // A bug the spec does not list is refused, naming the ones it has.
    let o = run(&buggy, &["--target-spec", spec, "--bug", "no-such-bug"], "2", &["--time-limit", "1"]);
    assert_eq!(o.status.code(), Some(254), "{}", text(&o));
    assert!(text(&o).contains("stale-read"), "{}", text(&o));
}

/// A minimal valid spec (the bundled node), with `edit` applied to its text.
fn spec_with(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(example("bundled.toml")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

#[test]
fn spec_errors_exit_254_naming_the_file_and_the_toml_path_before_anything_starts() {
    let store = Store::new("spec-errors");
    std::fs::create_dir_all(&store.0).unwrap();
    type Edit = Box<dyn Fn(String) -> String>;
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        ("missing-field.toml", Box::new(|t: String| t.replace("program = \"{faultline}\"\n", "")), "node", "missing field `program`"),
        (
            "unknown-field.toml",
            Box::new(|t: String| t.replacen("ok = [200]", "okay = [200]", 1)),
            "client.read.okay",
            "unknown field `okay`",
        ),
        (
            "bad-placeholder.toml",
            Box::new(|t: String| t.replace("\"--name\", \"{name}\"", "\"--name\", \"{nmae}\"")),
            "node.args[2]",
            "unknown placeholder `{nmae}`",
        ),
        (
            "bad-pointer.toml",
            Box::new(|t: String| t.replace("value = \"/value\"", "value = \"value\"")),
            "client.read.value",
            "JSON pointer",
        ),
        ("bad-status.toml", Box::new(|t: String| t.replacen("fail = [503]", "fail = [700]", 1)), "client.read.fail", "700"),
        ("no-toml.toml", Box::new(|t: String| format!("{t}\n[node\n")), "", "unclosed table"),
    ];
    for (file, edit, at, what) in cases {
        let path = spec_with(&store.0, file, edit);
        let o = faultline(&["test", "--target-spec", path.to_str().unwrap(), "--store", store.path(), "--time-limit", "1"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(254), "{file}: {out}");
        assert!(out.contains(file), "{file}: names the file: {out}");
        assert!(out.contains(&format!("{at}:")) || at.is_empty(), "{file}: names `{at}`: {out}");
        assert!(out.contains(what), "{file}: says `{what}`: {out}");
        // Refused before anything happened: no run directory.
        assert!(!store.0.join("bundled-spec-register").exists(), "{file}: nothing was started");
        // `spec check` refuses it the same way.
        let o = faultline(&["spec", "check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(254), "{file}: {}", text(&o));
    }
}

#[test]
fn a_ready_check_that_never_passes_exits_254_naming_it_with_the_nodes_log() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("spec-unready");
    std::fs::create_dir_all(&store.0).unwrap();
    let path = spec_with(&store.0, "unready.toml", |t| {
        t.replace("timeout_seconds = 10", "timeout_seconds = 2")
            .replace("url = \"http://{ip}:{port}/status\"", "url = \"http://{ip}:9/status\"")
    });
    for args in
        [vec!["spec", "check", path.to_str().unwrap()], vec!["test", "--target-spec", path.to_str().unwrap(), "--store", store.path()]]
    {
        let o = faultline(&args);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(254), "{out}");
        assert!(out.contains("not ready after 2 s") && out.contains("ready.http"), "{out}");
    }
    let o = faultline(&["clean"]);
    assert!(!text(&o).contains("removed"), "nothing was left behind: {}", text(&o));
}

#[test]
fn spec_check_tries_each_operation_and_catches_a_spec_that_misreads_a_refused_cas() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let o = faultline(&["spec", "check", example("bundled.toml").to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for line in ["[read] → POST http://", "[write] → POST", "[cas] → POST", "{\"key\": \"spec-check-register\", \"from\": 3, \"to\": 4}"]
    {
        assert!(out.contains(line), "prints `{line}`: {out}");
    }
    assert!(out.contains("ok   read on key spec-check-counter (counter workload): ok 7"), "{out}");
    assert!(out.contains("every operation behaved as expected"), "{out}");

    // Without its `succeeded` rule the spec takes a refused compare-and-set for an applied one.
    let store = Store::new("spec-check-wrong");
    std::fs::create_dir_all(&store.0).unwrap();
    let path = spec_with(&store.0, "no-succeeded.toml", |t| {
        let (head, cas) = t.split_at(t.find("[client.cas]").unwrap());
        format!("{head}{}", cas.replace("succeeded = { pointer = \"/ok\", equals = true }", ""))
    });
    let o = faultline(&["spec", "check", path.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("WRONG cas [3,4]"), "{out}");
}

#[test]
fn replay_repeats_a_spec_runs_operations_and_faults_from_its_directory() {
    if !common::can_run(&["ip", "iptables"]) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::new("spec-replay");
    // The spec is a scratch copy, deleted after the run: the replay uses the run's own copy.
    std::fs::create_dir_all(&store.0).unwrap();
    let path = spec_with(&store.0, "mine.toml", |t| t);
    let args = ["--nemesis", "partition,kill", "--nemesis-interval", "1.5", "--time-limit", "8", "--rate", "80", "--ops-per-key", "30"];
    let o = run(&store, &["--target-spec", path.to_str().unwrap()], "77", &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::remove_file(&path).unwrap();
    let first_dir = std::fs::canonicalize(store.0.join("latest")).unwrap();
    let first = store.history();

    let o = faultline(&["test", "--replay", first_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let second_dir = std::fs::canonicalize(store.0.join("latest")).unwrap();
    assert_ne!(first_dir, second_dir, "a new run directory, in the same store");
    assert_eq!(second_dir.parent(), first_dir.parent());
    let second = store.history();
    assert_eq!(store.test().seed, 77);

    let (a, b) = (invocations(&first), invocations(&second));
    let n = a.len().min(b.len());
    assert!(n > 300, "{} and {} ops", a.len(), b.len());
    assert_eq!(a[..n], b[..n], "the same sequence of operations");
    let (fa, fb) = (schedule(&first), schedule(&second));
    assert!(fa.len() >= 2, "{fa:?}");
    let n = fa.len().min(fb.len());
    assert_eq!(fa[..n], fb[..n], "the same faults");

    // --replay takes nothing else, and names a missing record.
    let o = faultline(&["test", "--replay", first_dir.to_str().unwrap(), "--seed", "3"]);
    assert_eq!(o.status.code(), Some(254), "{}", text(&o));
    let o = faultline(&["test", "--replay", "/nonexistent/run"]);
    assert_eq!(o.status.code(), Some(254), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent/run/test.json"), "{}", text(&o));
}
