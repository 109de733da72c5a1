//! Anomalies in words: each transaction named (T1, T2, … with its history index), each edge
//! of a cycle with the key and values that prove it, then why that is impossible.

use history::{History, Outcome};
use serde_json::Value;

use super::cycles::Search;
use super::orders::{external_len, internal_inconsistency};
use super::txns::{Mop, Txns};
use super::{anomaly_name, Anomaly, Class, Members, Relation, Step, TxnInfo, Via};

/// A list, shortened in the middle when long.
fn list(l: &[i64]) -> String {
    let show = |items: &[i64]| items.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    if l.len() <= 8 {
        format!("[{}]", show(l))
    } else {
        format!("[{}, … {} more …, {}]", show(&l[..2]), l.len() - 5, show(&l[l.len() - 3..]))
    }
}

pub(super) fn anomaly(
    history: &History,
    txns: &Txns,
    search: &Search,
    class: Class,
    via: Via,
    members: &Members,
    prohibited: bool,
) -> Anomaly {
    let ids: Vec<u32> = match members {
        Members::Cycle(c) => c.iter().map(|(t, _)| *t).collect(),
        Members::Txns(t, _) => t.clone(),
    };
    let info: Vec<TxnInfo> = ids.iter().enumerate().map(|(i, id)| txn_info(history, txns, *id, i)).collect();
    let name = |i: usize| info[i].name.clone();
    let mut explanation: Vec<String> = info
        .iter()
        .map(|t| format!("{} = history index {} (process {}, {}): {}", t.name, t.index, t.process, outcome(t.outcome), t.value))
        .collect();
    let mut cycle = Vec::new();
    match members {
        Members::Cycle(c) => {
            for (i, (from, rel)) in c.iter().enumerate() {
                let j = (i + 1) % c.len();
                let to = c[j].0;
                let (key, because) = edge(txns, search, *from, to, *rel, &name(i), &name(j));
                explanation.push(format!("{} < {} ({}): {because}", name(i), name(j), rel_name(*rel)));
                cycle.push(Step { from: i, to: j, relation: *rel, key: key.map(|k| txns.keys[k as usize].clone()), because });
            }
            let chain: Vec<String> = (0..=c.len()).map(|i| name(i % c.len())).collect();
            explanation.push(format!(
                "so {}: a cycle, which no serial order of these transactions allows — {} ({})",
                chain.join(" < "),
                anomaly_name(class, via),
                class.meaning()
            ));
        }
        Members::Txns(_, key) => explanation.push(other(txns, search, class, &ids, *key, &name)),
    }
    Anomaly { class, via, prohibited, txns: info, cycle, explanation }
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Fail => "failed",
        Outcome::Info => "indeterminate",
    }
}

fn rel_name(r: Relation) -> &'static str {
    match r {
        Relation::Ww => "ww",
        Relation::Wr => "wr",
        Relation::Rw => "rw",
        Relation::Process => "process",
        Relation::Realtime => "realtime",
    }
}

fn txn_info(history: &History, txns: &Txns, id: u32, i: usize) -> TxnInfo {
    let t = &txns.txns[id as usize];
    let value = match (t.outcome, t.completion) {
        (Outcome::Ok, Some(c)) => history.ops[c].value.clone(),
        _ => history.ops[t.invoke].value.clone(),
    };
    TxnInfo {
        name: format!("T{}", i + 1),
        index: history.ops[t.invoke].index,
        completion: t.completion.map(|c| history.ops[c].index),
        time: t.start,
        process: t.process,
        outcome: t.outcome,
        value: if value.is_null() { Value::Array(Vec::new()) } else { value },
    }
}

fn reads(txns: &Txns, id: u32) -> impl Iterator<Item = (u32, &Vec<i64>)> {
    txns.txns[id as usize].mops.iter().filter_map(|m| match m {
        Mop::Read { key, list: Some(l) } => Some((*key, l)),
        _ => None,
    })
}

fn appends(txns: &Txns, id: u32) -> impl Iterator<Item = (u32, i64)> + '_ {
    txns.txns[id as usize].mops.iter().filter_map(|m| match m {
        Mop::Append { key, value } => Some((*key, *value)),
        _ => None,
    })
}

/// A value `txn` appended to `key` that no read shows, if it completed ok.
fn unread_append(txns: &Txns, orders: &super::orders::Orders, txn: u32, key: u32) -> Option<i64> {
    if txns.txns[txn as usize].outcome != Outcome::Ok {
        return None;
    }
    appends(txns, txn).find(|(k, v)| *k == key && !orders.pos.contains_key(&(*k, *v))).map(|(_, v)| v)
}

/// The key and the reason for the edge `a → b`.
fn edge(txns: &Txns, search: &Search, a: u32, b: u32, rel: Relation, an: &str, bn: &str) -> (Option<u32>, String) {
    let orders = &search.orders;
    let key_name = |k: u32| txns.keys[k as usize].to_string();
    match rel {
        Relation::Ww => {
            for (k, v) in appends(txns, a) {
                if let Some(&p) = orders.pos.get(&(k, v)) {
                    if let Some(next) = orders.order[k as usize].get(p as usize + 1) {
                        if txns.writer.get(&(k, *next)) == Some(&b) {
                            return (Some(k), format!("{an} appended {v} to key {} and {bn} appended {next} right after it", key_name(k)));
                        }
                    } else if let Some(u) = unread_append(txns, orders, b, k) {
                        return (
                            Some(k),
                            format!(
                                "{an} appended {v}, the last value any read of key {} shows, and {bn} appended {u}, which no read shows, so it came later",
                                key_name(k)
                            ),
                        );
                    }
                }
            }
        }
        Relation::Wr => {
            for (k, l) in reads(txns, b) {
                let n = external_len(txns, b, k, l);
                if n > 0 && txns.writer.get(&(k, l[n - 1])) == Some(&a) {
                    return (Some(k), format!("{bn} read key {} = {}, whose last value {an} appended", key_name(k), list(l),));
                }
            }
        }
        Relation::Rw => {
            for (k, l) in reads(txns, a) {
                let n = external_len(txns, a, k, l);
                if orders.is_prefix(k, l) && orders.writer_at(txns, k, n) == Some(b) {
                    let next = orders.order[k as usize][n];
                    return (
                        Some(k),
                        format!("{an} read key {} = {} without {next}, which {bn} appended next", key_name(k), list(&l[..n])),
                    );
                }
                if orders.is_prefix(k, l) && n == orders.order[k as usize].len() {
                    if let Some(u) = unread_append(txns, orders, b, k) {
                        return (
                            Some(k),
                            format!(
                                "{an} read key {} = {} without {u}, which {bn} appended (no read shows it, so it came after every value read)",
                                key_name(k),
                                list(&l[..n])
                            ),
                        );
                    }
                }
            }
        }
        Relation::Process => {
            return (None, format!("both ran in process {}, {an} first", txns.txns[a as usize].process));
        }
        Relation::Realtime => {
            let end = txns.txns[a as usize].end.unwrap_or_default();
            let start = txns.txns[b as usize].start;
            return (
                None,
                format!("{an} completed (at {:.3} s) before {bn} was invoked (at {:.3} s)", end as f64 / 1e9, start as f64 / 1e9),
            );
        }
    }
    (None, "(the evidence for this edge was not found again: please report this)".into())
}

/// The reason for an anomaly that needs no cycle.
fn other(txns: &Txns, search: &Search, class: Class, ids: &[u32], key: u32, name: &dyn Fn(usize) -> String) -> String {
    let k = txns.keys[key as usize].to_string();
    let read_of = |id: u32| reads(txns, id).find(|(rk, _)| *rk == key).map(|(_, l)| l.clone()).unwrap_or_default();
    match class {
        Class::G1a => {
            let failed: Vec<i64> = appends(txns, ids[1]).filter(|(rk, _)| *rk == key).map(|(_, v)| v).collect();
            let l = reads(txns, ids[0]).find(|(rk, l)| *rk == key && l.iter().any(|v| failed.contains(v))).map(|(_, l)| l.clone());
            format!(
                "{} read key {k} = {}, which holds {} appended by {}, a transaction that failed (so it never happened): {}",
                name(0),
                list(&l.unwrap_or_default()),
                list(&failed),
                name(1),
                class.meaning()
            )
        }
        Class::G1b => {
            let mine: Vec<i64> = appends(txns, ids[1]).filter(|(rk, _)| *rk == key).map(|(_, v)| v).collect();
            format!(
                "{} read key {k} = {}, which ends inside {}'s appends {} to the same key: {}",
                name(0),
                list(&read_of(ids[0])),
                name(1),
                list(&mine),
                class.meaning()
            )
        }
        Class::IncompatibleOrder => format!(
            "{} read key {k} = {} and {} read key {k} = {}: neither is a prefix of the other, so no one order of appends explains both",
            name(0),
            list(&read_of(ids[0])),
            name(1),
            list(&search.orders.order[key as usize]),
        ),
        Class::DuplicateElements => {
            format!("{} read key {k} = {}, which holds a value twice, although each was appended once", name(0), list(&read_of(ids[0])))
        }
        Class::GarbageRead => {
            let l = reads(txns, ids[0])
                .find(|(rk, l)| *rk == key && l.iter().any(|v| !txns.writer.contains_key(&(key, *v))))
                .map(|(_, l)| l.clone())
                .unwrap_or_default();
            let garbage: Vec<i64> = l.iter().copied().filter(|v| !txns.writer.contains_key(&(key, *v))).collect();
            format!("{} read key {k} = {}, but no transaction appended {} to it", name(0), list(&l), list(&garbage))
        }
        Class::Internal => {
            let why = internal_inconsistency(&txns.txns[ids[0] as usize].mops)
                .map(|_| "a read that does not match its own earlier read and appends of that key")
                .unwrap_or("");
            format!("{} made {why} (key {k}): {}", name(0), class.meaning())
        }
        _ => class.meaning().to_string(),
    }
}
