//! The bank workload on etcd: account `i` is the key `faultline/bank/<i>` (absent: the initial
//! balance). A read is one range over the accounts' prefix (one revision: a consistent
//! snapshot); a transfer reads both accounts and commits one txn that compares both keys' mod
//! revisions with those read (or that a key is still absent) and puts both balances. A failed
//! compare changed nothing: `fail`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use workloads::bank::{Transfer, ACCOUNTS, INITIAL};
use workloads::{Completion, Invocation};

use super::client::{decode, encode, failed, server_error, EtcdClient};

const PREFIX: &str = "faultline/bank/";

/// An account's balance and mod revision ("0": never written).
type Account = (i64, String);

impl EtcdClient {
    pub(super) async fn bank(&self, op: &Invocation) -> Completion {
        match op.f.as_str() {
            "read" => match self.accounts().await {
                Ok(accounts) => Completion::Ok(json!(accounts.iter().map(|a| a.0).collect::<Vec<_>>())),
                Err(e) => Completion::Fail(e),
            },
            "transfer" => self.transfer(op).await,
            other => Completion::Fail(format!("the etcd bank client has no operation `{other}`")),
        }
    }

    /// Every account, in one range request; or why not (a read changes nothing: a `fail`).
    async fn accounts(&self) -> Result<Vec<Account>, String> {
        let read = Invocation { f: "read".into(), key: None, value: Value::Null };
        let why = |c: Completion| match c {
            Completion::Fail(e) | Completion::Info(e) => e,
            Completion::Ok(v) => format!("unexpected answer {v}"),
        };
        let mut end = PREFIX.as_bytes().to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let body = json!({ "key": B64.encode(PREFIX), "range_end": B64.encode(&end), "serializable": self.serializable_reads() });
        let answer = self.post("/v3/kv/range", body).await.map_err(|e| why(failed(&read, &e)))?;
        if let Some(c) = server_error(&read, &answer) {
            return Err(why(c));
        }
        let mut accounts: Vec<Account> = vec![(INITIAL, "0".into()); ACCOUNTS as usize];
        for kv in answer["kvs"].as_array().into_iter().flatten() {
            let key =
                kv["key"].as_str().and_then(|k| B64.decode(k).ok()).map(|k| String::from_utf8_lossy(&k).into_owned()).unwrap_or_default();
            let Some(i) = key.strip_prefix(PREFIX).and_then(|i| i.parse::<usize>().ok()).filter(|i| *i < accounts.len()) else { continue };
            let Some(balance) = kv["value"].as_str().and_then(decode).and_then(|v| v.as_i64()) else {
                return Err(format!("account {i} holds something that is not a balance"));
            };
            accounts[i] = (balance, kv["mod_revision"].as_str().unwrap_or("0").to_string());
        }
        Ok(accounts)
    }

    async fn transfer(&self, op: &Invocation) -> Completion {
        let Some(t) = Transfer::parse(&op.value) else { return Completion::Fail(format!("not a transfer: {}", op.value)) };
        // Reading changes nothing: any failure here is a `fail` of the transfer.
        let accounts = match self.accounts().await {
            Ok(a) => a,
            Err(e) => return Completion::Fail(format!("reading the accounts: {e}")),
        };
        let balances: Vec<i64> = accounts.iter().map(|a| a.0).collect();
        let Some(next) = t.apply(&balances) else { return Completion::Fail("insufficient funds".into()) };
        let mut compare = Vec::new();
        let mut success = Vec::new();
        for i in [t.from as usize, t.to as usize] {
            let key = B64.encode(format!("{PREFIX}{i}"));
            compare.push(match accounts[i].1.as_str() {
                "0" => json!({ "key": key, "target": "CREATE", "result": "EQUAL", "create_revision": "0" }),
                revision => json!({ "key": key, "target": "MOD", "result": "EQUAL", "mod_revision": revision }),
            });
            success.push(json!({ "requestPut": { "key": key, "value": encode(&json!(next[i])) } }));
        }
        match self.post("/v3/kv/txn", json!({ "compare": compare, "success": success })).await {
            Ok(body) => match server_error(op, &body) {
                Some(c) => c,
                None if body["succeeded"].as_bool() == Some(true) => Completion::Ok(op.value.clone()),
                None => Completion::Fail("an account changed since it was read".into()),
            },
            Err(e) => failed(op, &e),
        }
    }
}
