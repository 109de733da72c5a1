//! One hand-made history per anomaly class (after the examples of the Elle paper, Kingsbury &
//! Alvaro, VLDB 2020, §2–§5: the longest read gives the version order, reads give wr and rw
//! edges, cycles are classified by their edges as Adya does), and property tests on simulated
//! serial databases.

use history::import::{read_history, Format};
use history::{History, Op, OpType, Process, Validity};
use serde_json::{json, Value};

use super::*;
use crate::synth;

/// A transaction: its outcome and micro-ops (reads with their results).
type T = (&'static str, Value);

fn strip_reads(mops: &Value) -> Value {
    Value::Array(mops.as_array().unwrap().iter().map(|m| if m[0] == "r" { json!(["r", m[1], null]) } else { m.clone() }).collect())
}

fn op(kind: OpType, process: u64, value: Value) -> Op {
    Op { index: u64::MAX, kind, process: Process::Client(process), f: "txn".into(), key: None, value, time: 0, node: None, error: None }
}

fn completion(outcome: &str, process: u64, mops: &Value) -> Option<Op> {
    match outcome {
        "ok" => Some(op(OpType::Ok, process, mops.clone())),
        "fail" => Some(op(OpType::Fail, process, strip_reads(mops))),
        "info" => Some(op(OpType::Info, process, strip_reads(mops))),
        _ => None, // never completes
    }
}

/// Every transaction invoked, then every one completed: all concurrent (no real-time order).
fn concurrent(txns: &[T]) -> History {
    let mut ops: Vec<Op> = txns.iter().enumerate().map(|(p, (_, m))| op(OpType::Invoke, p as u64, strip_reads(m))).collect();
    ops.extend(txns.iter().enumerate().filter_map(|(p, (o, m))| completion(o, p as u64, m)));
    History::from_ops("h", ops)
}

/// One after another, each in its own process.
fn serial(txns: &[T]) -> History {
    let mut ops = Vec::new();
    for (p, (o, m)) in txns.iter().enumerate() {
        ops.push(op(OpType::Invoke, p as u64, strip_reads(m)));
        ops.extend(completion(o, p as u64, m));
    }
    History::from_ops("h", ops)
}

fn check(history: &History, model: ConsistencyModel) -> (Validity, ElleResult) {
    let r = ListAppend { model }.check(history, &CheckOptions::default()).unwrap();
    match r.detail {
        CheckDetail::ListAppend(e) => (r.valid, e),
        other => panic!("{other:?}"),
    }
}

fn names(r: &ElleResult) -> Vec<String> {
    r.counts.keys().cloned().collect()
}

#[test]
fn g0_two_transactions_that_overwrite_each_other_in_opposite_orders() {
    let h = concurrent(&[
        ("ok", json!([["append", "x", 1], ["append", "y", 2]])),
        ("ok", json!([["append", "x", 2], ["append", "y", 1]])),
        ("ok", json!([["r", "x", [1, 2]], ["r", "y", [1, 2]]])),
    ]);
    let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G0"]);
    let a = &r.anomalies[0];
    assert_eq!(a.cycle.len(), 2);
    assert!(a.cycle.iter().all(|s| s.relation == Relation::Ww));
    assert!(
        a.explanation.iter().any(|l| l.contains("appended 1 to key x") && l.contains("appended 2 right after it")),
        "{:#?}",
        a.explanation
    );
}

#[test]
fn g1c_two_transactions_that_read_each_others_appends() {
    let h = concurrent(&[("ok", json!([["append", "x", 1], ["r", "y", [1]]])), ("ok", json!([["append", "y", 1], ["r", "x", [1]]]))]);
    let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G1c"]);
    assert!(r.anomalies[0].cycle.iter().all(|s| s.relation == Relation::Wr));
}

#[test]
fn g_single_read_skew() {
    // T1 sees T2's append to y but not its append to x.
    let h = concurrent(&[
        ("ok", json!([["r", "x", []], ["r", "y", [1]]])),
        ("ok", json!([["append", "x", 1], ["append", "y", 1]])),
        ("ok", json!([["r", "x", [1]]])),
    ]);
    let (valid, r) = check(&h, ConsistencyModel::SnapshotIsolation);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G-single"]);
    let a = &r.anomalies[0];
    assert_eq!(a.cycle.iter().filter(|s| s.relation == Relation::Rw).count(), 1);
    let text = a.explanation.join("\n");
    assert!(text.contains("read key x = [] without 1, which T2 appended next"), "{text}");
    assert!(text.contains("T2 < T1 (wr): T1 read key y = [1], whose last value T2 appended"), "{text}");
    // Read committed allows it.
    assert_eq!(check(&h, ConsistencyModel::ReadCommitted).0, Validity::Valid);
}

#[test]
fn g2_item_write_skew_is_allowed_by_snapshot_isolation_only() {
    let h = concurrent(&[
        ("ok", json!([["r", "x", []], ["append", "y", 1]])),
        ("ok", json!([["r", "y", []], ["append", "x", 1]])),
        ("ok", json!([["r", "x", [1]], ["r", "y", [1]]])),
    ]);
    let (valid, r) = check(&h, ConsistencyModel::Serializable);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G2-item"]);
    assert!(r.anomalies[0].cycle.iter().all(|s| s.relation == Relation::Rw));
    let (valid, r) = check(&h, ConsistencyModel::SnapshotIsolation);
    assert_eq!(valid, Validity::Valid, "{r:?}");
    assert_eq!(r.counts.get("G2-item"), Some(&1), "found, but allowed");
    assert!(!r.anomalies[0].prohibited);
}

#[test]
fn g_nonadjacent_is_forbidden_by_snapshot_isolation() {
    // T1 -rw(a)-> T2 -wr(b)-> T3 -rw(c)-> T4 -wr(d)-> T1: two anti-dependencies, apart.
    let h = concurrent(&[
        ("ok", json!([["r", "a", []], ["r", "d", [1]]])),
        ("ok", json!([["append", "a", 1], ["append", "b", 1]])),
        ("ok", json!([["r", "b", [1]], ["r", "c", []]])),
        ("ok", json!([["append", "c", 1], ["append", "d", 1]])),
        ("ok", json!([["r", "a", [1]], ["r", "c", [1]]])),
    ]);
    let (valid, r) = check(&h, ConsistencyModel::SnapshotIsolation);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G-nonadjacent"]);
    assert_eq!(r.anomalies[0].cycle.len(), 4);
}

#[test]
fn g1a_aborted_read() {
    let h = serial(&[("fail", json!([["append", "x", 1]])), ("ok", json!([["r", "x", [1]]]))]);
    let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G1a"]);
    assert!(r.anomalies[0].explanation.last().unwrap().contains("a transaction that failed"));
}

#[test]
fn g1b_intermediate_read() {
    let h = concurrent(&[("ok", json!([["append", "x", 1], ["append", "x", 2]])), ("ok", json!([["r", "x", [1]]]))]);
    let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
    assert_eq!(valid, Validity::Invalid);
    // T1's 2, which no read shows, came after 1: T2 also read T1's 1 without its 2 (wr one
    // way, rw the other), a G-single, which read committed allows.
    assert_eq!(names(&r), ["G-single", "G1b"]);
    assert_eq!(r.prohibited, ["G1b"]);
}

#[test]
fn internal_inconsistency() {
    let h = serial(&[("ok", json!([["append", "x", 1], ["r", "x", []]]))]);
    let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["internal"]);
    // Seeing its own append is fine, also after a read.
    let h = serial(&[("ok", json!([["r", "x", []], ["append", "x", 1], ["r", "x", [1]]]))]);
    assert_eq!(check(&h, ConsistencyModel::StrictSerializable).0, Validity::Valid);
}

#[test]
fn incompatible_orders_duplicates_and_garbage() {
    let h = concurrent(&[
        ("ok", json!([["append", "x", 1]])),
        ("ok", json!([["append", "x", 2]])),
        ("ok", json!([["r", "x", [1, 2]]])),
        ("ok", json!([["r", "x", [2, 1]]])),
    ]);
    let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["incompatible-order"]);
    let h = concurrent(&[("ok", json!([["append", "x", 1]])), ("ok", json!([["r", "x", [1, 1]]]))]);
    assert!(names(&check(&h, ConsistencyModel::ReadCommitted).1).contains(&"duplicate-elements".to_string()));
    let h = concurrent(&[("ok", json!([["append", "x", 1]])), ("ok", json!([["r", "x", [1, 9]]]))]);
    let r = check(&h, ConsistencyModel::ReadCommitted).1;
    assert_eq!(names(&r), ["garbage-read"]);
    assert!(r.anomalies[0].explanation.last().unwrap().contains("no transaction appended [9]"));
}

#[test]
fn a_stale_read_after_an_acknowledged_append_is_a_realtime_cycle() {
    let h = serial(&[("ok", json!([["append", "x", 1]])), ("ok", json!([["r", "x", []]])), ("ok", json!([["r", "x", [1]]]))]);
    assert_eq!(check(&h, ConsistencyModel::Serializable).0, Validity::Valid);
    let (valid, r) = check(&h, ConsistencyModel::StrictSerializable);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G-single-realtime"]);
    let text = r.anomalies[0].explanation.join("\n");
    assert!(text.contains("(realtime): T") && text.contains("completed"), "{text}");
}

#[test]
fn process_order_counts_only_when_asked_for() {
    // One process appends, then reads without its own append.
    let ops = vec![
        op(OpType::Invoke, 0, json!([["append", "x", 1]])),
        op(OpType::Invoke, 1, json!([["r", "x", null]])),
        op(OpType::Ok, 0, json!([["append", "x", 1]])),
        op(OpType::Invoke, 0, json!([["r", "x", null]])),
        op(OpType::Ok, 1, json!([["r", "x", [1]]])),
        op(OpType::Ok, 0, json!([["r", "x", []]])),
    ];
    let h = History::from_ops("h", ops);
    assert_eq!(check(&h, ConsistencyModel::Serializable).0, Validity::Valid);
    let (valid, r) = check(&h, ConsistencyModel::StrongSessionSerializable);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G-single-process"]);
}

#[test]
fn indeterminate_transactions_join_the_graph_when_their_appends_are_read() {
    let t1 = json!([["append", "x", 1], ["append", "y", 1]]);
    // T1 never completes; T2 saw its x but not its y: read skew through an info transaction.
    let h = concurrent(&[("info", t1.clone()), ("ok", json!([["r", "x", [1]], ["r", "y", []]])), ("ok", json!([["r", "y", [1]]]))]);
    let (valid, r) = check(&h, ConsistencyModel::Serializable);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G-single"]);
    assert_eq!(r.info_committed, 1);
    assert!(r.anomalies[0].txns.iter().any(|t| t.outcome == Outcome::Info));
    // Unread, it constrains nothing.
    let h = concurrent(&[("none", t1), ("ok", json!([["r", "x", []], ["r", "y", []]]))]);
    let (valid, r) = check(&h, ConsistencyModel::StrictSerializable);
    assert_eq!((valid, r.info_committed), (Validity::Valid, 0));
}

#[test]
fn bad_histories_name_the_line_and_field() {
    let text = r#"{"type":"invoke","process":0,"f":"txn","value":[["append","x",1]]}
{"type":"ok","process":0,"f":"txn","value":[["append","x",1]]}
{"type":"invoke","process":1,"f":"txn","value":[["append","x",1]]}
"#;
    let h = read_history("h.jsonl", text, Format::Jsonl).unwrap();
    let e = ListAppend { model: ConsistencyModel::Serializable }.check(&h, &CheckOptions::default()).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("value")));
    assert!(e.message.contains("appended to key x again"), "{e}");
    let text = r#"{"type":"invoke","process":0,"f":"txn","value":[["write","x",1]]}"#;
    let h = read_history("h.jsonl", text, Format::Jsonl).unwrap();
    let e = ListAppend { model: ConsistencyModel::Serializable }.check(&h, &CheckOptions::default()).unwrap_err();
    assert!(e.message.contains("f is \"append\" or \"r\""), "{e}");
}

/// Elle's `histories/si-without-g-single.edn` (jepsen-io/elle): four transactions whose
/// dependencies its comments list (T1 ww T3 on 9, T1 wr T4 on 9, T2 rw T1 on 9, T3 rw T2 on
/// 8, T3 rw T4 on 6, T4 rw T3 on 9). Appends that no read shows come after every value read,
/// which gives the ww and rw edges to T2's and T3's unread appends. There is no cycle with a
/// single anti-dependency (hence the name), but there are cycles with two.
#[test]
fn elles_si_without_g_single_history() {
    let h = concurrent(&[
        ("ok", json!([["append", 9, 2]])),
        ("ok", json!([["append", 8, 1], ["r", 9, null]])),
        ("ok", json!([["r", 6, null], ["r", 8, null], ["append", 9, 5]])),
        ("ok", json!([["append", 6, 2], ["r", 9, [2]]])),
    ]);
    let (_, r) = check(&h, ConsistencyModel::Serializable);
    assert!(!r.counts.keys().any(|n| n.starts_with("G-single") || n.starts_with("G0") || n.starts_with("G1")), "{:?}", r.counts);
    assert_eq!(r.prohibited, ["G2-item"]);
    // Every edge of every cycle found is one the file lists.
    let listed = [
        ("T1", "T3", Relation::Ww),
        ("T1", "T4", Relation::Wr),
        ("T2", "T1", Relation::Rw),
        ("T3", "T2", Relation::Rw),
        ("T3", "T4", Relation::Rw),
        ("T4", "T3", Relation::Rw),
    ];
    for a in &r.anomalies {
        for step in &a.cycle {
            // Our T-names are per anomaly: map back by history index (invokes 0..3 are T1..T4).
            let name = |i: usize| format!("T{}", a.txns[i].index + 1);
            let (from, to) = (name(step.from), name(step.to));
            assert!(listed.iter().any(|(f, t, rel)| *f == from && *t == to && *rel == step.relation), "{from} {to} {:?}", step.relation);
        }
    }
    // Snapshot isolation allows it: the anti-dependencies in its cycles are adjacent.
    assert_eq!(check(&h, ConsistencyModel::SnapshotIsolation).0, Validity::Valid);
}

/// Elle's `histories/paper-example.edn` (jepsen-io/elle; the example of the Elle paper), with
/// a process per transaction added: T4 read key 255 without T2's 8 although T2 had completed
/// before T3, which completed before T4 began. Only real-time order makes that a cycle.
#[test]
fn elles_paper_example_is_a_stale_read_in_real_time() {
    let h = serial(&[
        (
            "ok",
            json!([
                ["append", 253, 1],
                ["append", 253, 3],
                ["append", 253, 4],
                ["append", 255, 2],
                ["append", 255, 3],
                ["append", 255, 4],
                ["append", 255, 5],
                ["append", 256, 1],
                ["append", 256, 2]
            ]),
        ),
        ("ok", json!([["append", 255, 8], ["r", 253, [1, 3, 4]]])),
        ("ok", json!([["append", 256, 4], ["r", 255, [2, 3, 4, 5, 8]], ["r", 256, [1, 2, 4]], ["r", 253, [1, 3, 4]]])),
        ("ok", json!([["append", 250, 10], ["r", 253, [1, 3, 4]], ["r", 255, [2, 3, 4, 5]], ["append", 256, 3]])),
    ]);
    let (_, r) = check(&h, ConsistencyModel::Serializable);
    assert_eq!(r.prohibited, ["G-single"], "{:?}", r.counts);
    let (valid, r) = check(&h, ConsistencyModel::StrictSerializable);
    assert_eq!(valid, Validity::Invalid);
    assert!(r.prohibited.contains(&"G-single".to_string()), "{:?}", r.prohibited);
}

#[test]
fn jepsen_edn_list_append_histories_are_read() {
    let text = r#"{:type :invoke, :f :txn, :value [[:append 1 1] [:r 2 nil]], :process 0, :time 10, :index 0}
{:type :invoke, :f :txn, :value [[:append 2 1] [:r 1 nil]], :process 1, :time 11, :index 1}
{:type :ok, :f :txn, :value [[:append 1 1] [:r 2 [1]]], :process 0, :time 20, :index 2}
{:type :ok, :f :txn, :value [[:append 2 1] [:r 1 [1]]], :process 1, :time 21, :index 3}
"#;
    let h = read_history("history.edn", text, Format::Edn).unwrap();
    let (valid, r) = check(&h, ConsistencyModel::Serializable);
    assert_eq!(valid, Validity::Invalid);
    assert_eq!(names(&r), ["G1c"]);
}

/// Simulated databases: strictly serializable by construction, so valid under every model.
#[test]
fn serial_executions_are_valid_under_every_model() {
    for seed in 0..40 {
        let h = synth::list_append(300, 1 + seed as usize % 8, if seed % 2 == 0 { 0.0 } else { 0.15 }, seed);
        for model in ConsistencyModel::ALL {
            let (valid, r) = check(&h, model);
            assert_eq!(valid, Validity::Valid, "seed {seed}, {model}: {:#?}", r.anomalies.first().map(|a| &a.explanation));
        }
    }
}

/// The lists that `txn`'s reads returned, by micro-op position.
fn ok_reads(h: &History) -> Vec<(usize, usize, Vec<i64>)> {
    let mut out = Vec::new();
    for (i, op) in h.ops.iter().enumerate() {
        if op.kind != OpType::Ok {
            continue;
        }
        for (j, m) in op.value.as_array().unwrap().iter().enumerate() {
            if m[0] == "r" {
                out.push((i, j, m[2].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()));
            }
        }
    }
    out
}

/// A read that drops the last value it saw, when that value's append completed before the read
/// began and another read shows it: a stale read, which strict serializability forbids.
#[test]
fn injected_stale_reads_are_caught_under_strict_serializability() {
    let mut caught = 0;
    for seed in 0..30 {
        let mut h = synth::list_append(400, 4, 0.0, 100 + seed);
        let reads = ok_reads(&h);
        let key_of = |h: &History, i: usize, j: usize| h.ops[i].value[j][1].clone();
        // The completion index of each appended (key, value).
        let mut appended_at = std::collections::HashMap::new();
        for (i, op) in h.ops.iter().enumerate() {
            if op.kind == OpType::Ok {
                for m in op.value.as_array().unwrap() {
                    if m[0] == "append" {
                        appended_at.insert((m[1].to_string(), m[2].as_i64().unwrap()), i);
                    }
                }
            }
        }
        let invoke_of = |h: &History, c: usize| (0..c).rev().find(|&i| h.ops[i].process == h.ops[c].process).unwrap();
        let target = reads.iter().find(|(i, j, l)| {
            let Some(&last) = l.last() else { return false };
            let key = key_of(&h, *i, *j);
            let done = appended_at.get(&(key.to_string(), last));
            // Not the reader's own append, completed before the reader began, and seen by another read.
            done.is_some_and(|&d| d != *i && d < invoke_of(&h, *i))
                && reads.iter().any(|(i2, j2, l2)| (i2, j2) != (i, j) && key_of(&h, *i2, *j2) == key && l2.contains(&last))
                && !h.ops[*i].value.as_array().unwrap().iter().any(|m| m[0] == "append" && m[1] == key)
        });
        let Some((i, j, l)) = target.cloned() else { continue };
        assert_eq!(check(&h, ConsistencyModel::StrictSerializable).0, Validity::Valid);
        h.ops[i].value[j][2] = json!(l[..l.len() - 1]);
        let (valid, r) = check(&h, ConsistencyModel::StrictSerializable);
        assert_eq!(valid, Validity::Invalid, "seed {seed}");
        assert!(
            r.prohibited.iter().any(|n| n.starts_with("G-single") || n.starts_with("G2") || n.starts_with("G-nonadjacent")),
            "{:?}",
            r.prohibited
        );
        caught += 1;
    }
    assert!(caught >= 20, "only {caught} seeds had a read to make stale");
}

/// Marking a transaction whose append was read as failed makes every read of it an aborted
/// read.
#[test]
fn injected_aborted_reads_are_caught() {
    for seed in 0..20 {
        let mut h = synth::list_append(200, 3, 0.0, 200 + seed);
        let reads = ok_reads(&h);
        let seen: Vec<i64> = reads.iter().flat_map(|(_, _, l)| l.clone()).collect();
        let Some(c) = h.ops.iter().position(|op| {
            op.kind == OpType::Ok
                && op.value.as_array().unwrap().iter().all(|m| m[0] == "append")
                && op.value.as_array().unwrap().iter().any(|m| seen.contains(&m[2].as_i64().unwrap()))
        }) else {
            continue;
        };
        h.ops[c].kind = OpType::Fail;
        let (valid, r) = check(&h, ConsistencyModel::ReadCommitted);
        assert_eq!(valid, Validity::Invalid, "seed {seed}");
        assert!(r.counts.contains_key("G1a"), "seed {seed}: {:?}", r.counts);
    }
}

#[test]
fn past_the_time_limit_or_memory_budget_the_answer_is_unknown() {
    // Write skew: a cycle that snapshot isolation allows, so only a finished search says valid.
    let h = concurrent(&[
        ("ok", json!([["r", "x", []], ["append", "y", 1]])),
        ("ok", json!([["r", "y", []], ["append", "x", 1]])),
        ("ok", json!([["r", "x", [1]], ["r", "y", [1]]])),
    ]);
    let options = CheckOptions { timeout: Some(std::time::Duration::from_nanos(1)), ..CheckOptions::default() };
    let r = ListAppend { model: ConsistencyModel::SnapshotIsolation }.check(&h, &options).unwrap();
    assert_eq!(r.valid, Validity::Unknown);
    let CheckDetail::ListAppend(e) = r.detail else { panic!() };
    assert!(e.cause.unwrap().starts_with("time limit"));
    let options = CheckOptions { max_memory: 1000, ..CheckOptions::default() };
    let h = synth::list_append(2000, 10, 0.1, 7);
    let r = ListAppend { model: ConsistencyModel::StrictSerializable }.check(&h, &options).unwrap();
    assert_eq!(r.valid, Validity::Unknown);
    let CheckDetail::ListAppend(e) = r.detail else { panic!() };
    assert!(e.cause.unwrap().starts_with("memory budget"));
}

/// A process that goes on after an indeterminate transaction (Jepsen retires it; other tools
/// may not): the indeterminate one may take effect later, so it precedes nothing in process
/// order.
#[test]
fn process_order_does_not_start_at_an_indeterminate_transaction() {
    let ops = vec![
        op(OpType::Invoke, 0, json!([["append", "x", 1]])),
        op(OpType::Info, 0, json!([["append", "x", 1]])),
        op(OpType::Invoke, 0, json!([["r", "x", null]])),
        op(OpType::Ok, 0, json!([["r", "x", []]])),
        op(OpType::Invoke, 1, json!([["r", "x", null]])),
        op(OpType::Ok, 1, json!([["r", "x", [1]]])),
    ];
    let h = History::from_ops("h", ops);
    let (valid, r) = check(&h, ConsistencyModel::StrongSessionSerializable);
    assert_eq!(valid, Validity::Valid, "{:?}", r.counts);
    assert_eq!(r.info_committed, 1);
}
