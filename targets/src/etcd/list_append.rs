//! The list-append workload on etcd: key `k`'s list is the JSON array at `faultline/la/<k>`
//! (absent: empty). A transaction reads every key it touches in one etcd txn (one revision),
//! works out its reads and the new lists, and — when it appends — commits one etcd txn that
//! compares each touched key's mod revision with the one read (or that it is still absent) and
//! puts the new lists. A failed compare changed nothing: `fail`. A read-only transaction is
//! its first txn alone.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use workloads::list_append::{completed, micro_ops};
use workloads::{Completion, Invocation};

use super::client::{decode, encode, failed, server_error, EtcdClient};

fn etcd_key(k: i64) -> String {
    B64.encode(format!("faultline/la/{k}"))
}

impl EtcdClient {
    pub(super) async fn list_txn(&self, op: &Invocation) -> Completion {
        let Some(mops) = micro_ops(&op.value) else { return Completion::Fail(format!("not a transaction: {}", op.value)) };
        let keys: Vec<i64> = mops.iter().map(|(_, k, _)| *k).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let ranges: Vec<Value> =
            keys.iter().map(|k| json!({ "requestRange": { "key": etcd_key(*k), "serializable": self.serializable_reads() } })).collect();
        // Reading changes nothing: any failure here fails the transaction.
        let as_read = Invocation { f: "read".into(), key: None, value: Value::Null };
        let answer = match self.post("/v3/kv/txn", json!({ "success": ranges })).await {
            Ok(body) => body,
            Err(e) => return failed(&as_read, &e),
        };
        if let Some(c) = server_error(&as_read, &answer) {
            return c;
        }
        // key → (list, mod revision; "0" when absent).
        let mut state: BTreeMap<i64, (Vec<i64>, String)> = BTreeMap::new();
        let responses = answer["responses"].as_array().cloned().unwrap_or_default();
        if responses.len() != keys.len() {
            return Completion::Fail(format!("etcd answered {} of {} ranges", responses.len(), keys.len()));
        }
        for (k, r) in keys.iter().zip(&responses) {
            let kv = r["response_range"]["kvs"].as_array().and_then(|kvs| kvs.first()).cloned();
            let entry = match kv {
                None => (Vec::new(), "0".to_string()),
                Some(kv) => {
                    let Some(list) = kv["value"].as_str().and_then(decode).and_then(|v| serde_json::from_value::<Vec<i64>>(v).ok()) else {
                        return Completion::Fail(format!("key {k} holds something that is not a list"));
                    };
                    (list, kv["mod_revision"].as_str().unwrap_or("0").to_string())
                }
            };
            state.insert(*k, entry);
        }
        let mut lists: BTreeMap<i64, Vec<i64>> = state.iter().map(|(k, (l, _))| (*k, l.clone())).collect();
        let mut reads = Vec::with_capacity(mops.len());
        for (append, k, v) in &mops {
            let list = lists.entry(*k).or_default();
            if *append {
                list.push(*v);
                reads.push(Vec::new());
            } else {
                reads.push(list.clone());
            }
        }
        let written: std::collections::BTreeSet<i64> = mops.iter().filter(|m| m.0).map(|m| m.1).collect();
        if written.is_empty() {
            return Completion::Ok(completed(&mops, &reads));
        }
        let compare: Vec<Value> = state
            .iter()
            .map(|(k, (_, rev))| match rev.as_str() {
                "0" => json!({ "key": etcd_key(*k), "target": "CREATE", "result": "EQUAL", "create_revision": "0" }),
                rev => json!({ "key": etcd_key(*k), "target": "MOD", "result": "EQUAL", "mod_revision": rev }),
            })
            .collect();
        let puts: Vec<Value> =
            written.iter().map(|k| json!({ "requestPut": { "key": etcd_key(*k), "value": encode(&json!(lists[k])) } })).collect();
        match self.post("/v3/kv/txn", json!({ "compare": compare, "success": puts })).await {
            Ok(body) => match server_error(op, &body) {
                Some(c) => c,
                None if body["succeeded"].as_bool() == Some(true) => Completion::Ok(completed(&mops, &reads)),
                None => Completion::Fail("a key changed since it was read".into()),
            },
            Err(e) => failed(op, &e),
        }
    }
}
