//! Random histories of a simulated linearizable object, for property tests and benchmarks.
//!
//! Each client runs ops one after another; every op takes effect at a random instant between its
//! invoke and its completion, on one true state, so the history is linearizable by construction.
//! Some ops end `fail` (no effect) or `info` (took effect or not, at random; the process id is
//! then retired, as Jepsen does). Deterministic for a given seed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{json, Value};

pub use history::rng::{splitmix, Rng};
use history::{History, Key, Op, OpType, Process};

/// Which object the simulated clients use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// read / write of small integers.
    Register,
    /// read / write / cas of small integers.
    CasRegister,
    /// get / put / append of strings.
    Kv,
    /// txns of reads and writes over registers x, y, z.
    MultiRegister,
    /// acquire / release.
    Mutex,
    /// add / read.
    Counter,
    /// add / read of the whole set.
    Set,
    /// enqueue / dequeue.
    Fifo,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The object.
    pub workload: Workload,
    /// Number of ops (invokes).
    pub ops: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Independent keys (1: no `key` field).
    pub keys: usize,
    /// Fraction of ops that end `info`.
    pub info_rate: f64,
    /// Distinct values written by registers.
    pub values: i64,
    /// The seed.
    pub seed: u64,
    /// How long after its invoke an indeterminate op may take effect (an op takes about 100
    /// time units; a request stuck behind a partition can land much later).
    pub info_lag: u64,
}

impl Spec {
    /// A spec with a few defaults: no info, one key, 5 values.
    pub fn new(workload: Workload, ops: usize, clients: usize, seed: u64) -> Spec {
        Spec { workload, ops, clients, keys: 1, info_rate: 0.0, values: 5, seed, info_lag: 100 }
    }
}

/// The true state of one key.
#[derive(Clone, Debug, Default)]
struct Truth {
    register: Value,
    text: String,
    registers: BTreeMap<String, i64>,
    held: bool,
    total: i64,
    set: BTreeSet<i64>,
    queue: VecDeque<i64>,
}

struct Planned {
    client: usize,
    process: u64,
    key: Option<Key>,
    f: &'static str,
    arg: Value,
    info: bool,
    /// For an info op: whether it takes effect.
    applies: bool,
    result: Option<Result<Value, ()>>,
}

fn plan_op(spec: &Spec, rng: &mut Rng, unique: &mut i64) -> (&'static str, Value) {
    *unique += 1;
    let v = rng.below(spec.values.max(1) as u64) as i64;
    match spec.workload {
        Workload::Register => match rng.below(2) {
            0 => ("read", Value::Null),
            _ => ("write", json!(v)),
        },
        Workload::CasRegister => match rng.below(3) {
            0 => ("read", Value::Null),
            1 => ("write", json!(v)),
            _ => ("cas", json!([v, rng.below(spec.values.max(1) as u64)])),
        },
        // Values come from `spec.values` letters, so small specs repeat them (the hard case for
        // a checker) and large ones are unique in practice.
        Workload::Kv => match rng.below(10) {
            0..=3 => ("get", Value::Null),
            4 => ("put", json!(format!("p{v} "))),
            _ => ("append", json!(format!("x{v} "))),
        },
        Workload::MultiRegister => {
            let regs = ["x", "y", "z"];
            let n = 1 + rng.below(3);
            let txn: Vec<Value> = (0..n)
                .map(|_| {
                    let r = regs[rng.below(3) as usize];
                    if rng.below(2) == 0 {
                        json!(["read", r, null])
                    } else {
                        json!(["write", r, rng.below(spec.values.max(1) as u64)])
                    }
                })
                .collect();
            ("txn", Value::Array(txn))
        }
        Workload::Mutex => match rng.below(2) {
            0 => ("acquire", Value::Null),
            _ => ("release", Value::Null),
        },
        Workload::Counter => match rng.below(2) {
            0 => ("add", json!(1 + rng.below(3))),
            _ => ("read", Value::Null),
        },
        Workload::Set => match rng.below(2) {
            0 => ("add", json!(*unique)),
            _ => ("read", Value::Null),
        },
        Workload::Fifo => match rng.below(2) {
            0 => ("enqueue", json!(*unique)),
            _ => ("dequeue", Value::Null),
        },
    }
}

/// Applies an op to the true state: its result, or `Err` if it is refused (ends `fail`).
fn execute(workload: Workload, t: &mut Truth, f: &str, arg: &Value) -> Result<Value, ()> {
    match f {
        "write" => {
            t.register = arg.clone();
            Ok(arg.clone())
        }
        "cas" => {
            if t.register == arg[0] {
                t.register = arg[1].clone();
                Ok(arg.clone())
            } else {
                Err(())
            }
        }
        "get" => Ok(json!(t.text)),
        "put" => {
            t.text = arg.as_str().unwrap_or_default().to_string();
            Ok(arg.clone())
        }
        "append" => {
            t.text.push_str(arg.as_str().unwrap_or_default());
            Ok(arg.clone())
        }
        "txn" => {
            let mut out = Vec::new();
            for m in arg.as_array().into_iter().flatten() {
                let reg = m[1].as_str().unwrap_or_default().to_string();
                if m[0] == "read" {
                    out.push(json!(["read", reg, t.registers.get(&reg)]));
                } else {
                    t.registers.insert(reg.clone(), m[2].as_i64().unwrap_or(0));
                    out.push(m.clone());
                }
            }
            Ok(Value::Array(out))
        }
        "acquire" if !t.held => {
            t.held = true;
            Ok(Value::Null)
        }
        "release" if t.held => {
            t.held = false;
            Ok(Value::Null)
        }
        "add" => {
            let n = arg.as_i64().unwrap_or(0);
            match workload {
                Workload::Set => {
                    t.set.insert(n);
                }
                _ => t.total += n,
            }
            Ok(arg.clone())
        }
        "enqueue" => {
            t.queue.push_back(arg.as_i64().unwrap_or(0));
            Ok(arg.clone())
        }
        "dequeue" => Ok(t.queue.pop_front().map(Value::from).unwrap_or(Value::Null)),
        _ => Err(()),
    }
}

fn read_of(workload: Workload, t: &Truth) -> Value {
    match workload {
        Workload::Counter => json!(t.total),
        Workload::Set => json!(t.set.iter().collect::<Vec<_>>()),
        _ => t.register.clone(),
    }
}

/// Generates a linearizable history for `spec`.
pub fn generate(spec: &Spec) -> History {
    let mut rng = Rng::new(spec.seed);
    let clients = spec.clients.max(1);
    // Events: (time, order, kind 0=invoke 1=take effect 2=complete, op id).
    let mut events: Vec<(u64, u64, u8, usize)> = Vec::with_capacity(spec.ops * 3);
    let mut planned: Vec<Planned> = Vec::with_capacity(spec.ops);
    let mut clock = vec![0u64; clients];
    let mut process: Vec<u64> = (0..clients as u64).collect();
    let mut next_process = clients as u64;
    let mut unique = 0i64;
    for n in 0..spec.ops {
        let client = n % clients;
        let (f, arg) = plan_op(spec, &mut rng, &mut unique);
        let key = (spec.keys > 1).then(|| Key::Int(rng.below(spec.keys as u64) as i64));
        let info = rng.chance(spec.info_rate);
        let start = clock[client] + rng.below(50);
        let effect = start + 1 + rng.below(if info { spec.info_lag.max(1) } else { 100 });
        let end = effect + 1 + rng.below(100);
        clock[client] = end + 1;
        let never_completes = info && rng.chance(0.2);
        let id = planned.len();
        planned.push(Planned { client, process: process[client], key, f, arg, info, applies: rng.chance(0.5), result: None });
        events.push((start, 3 * id as u64, 0, id));
        events.push((effect, 3 * id as u64 + 1, 1, id));
        // An op that never completes is still in flight at the end; like Jepsen's workers, the
        // client carries on under a fresh process id.
        if !never_completes {
            events.push((end, 3 * id as u64 + 2, 2, id));
        }
        if info {
            process[client] = next_process;
            next_process += 1;
        }
    }
    events.sort_unstable();

    let mut truth: BTreeMap<Option<Key>, Truth> = BTreeMap::new();
    let mut ops = Vec::with_capacity(events.len());
    for (time, _, kind, id) in events {
        let p = &mut planned[id];
        match kind {
            0 => ops.push(Op {
                index: ops.len() as u64,
                kind: OpType::Invoke,
                process: Process::Client(p.process),
                f: p.f.to_string(),
                key: p.key.clone(),
                value: p.arg.clone(),
                time,
                node: Some(format!("n{}", p.client % 5 + 1)),
                error: None,
            }),
            1 => {
                if p.info && !p.applies {
                    continue;
                }
                let t = truth.entry(p.key.clone()).or_default();
                p.result = Some(if p.f == "read" { Ok(read_of(spec.workload, t)) } else { execute(spec.workload, t, p.f, &p.arg) });
            }
            _ => {
                let (kind, value, error) = match (&p.result, p.info) {
                    (_, true) => (OpType::Info, p.arg.clone(), Some(json!("timeout"))),
                    (Some(Ok(v)), false) => (OpType::Ok, v.clone(), None),
                    _ => (OpType::Fail, p.arg.clone(), Some(json!("refused"))),
                };
                ops.push(Op {
                    index: ops.len() as u64,
                    kind,
                    process: Process::Client(p.process),
                    f: p.f.to_string(),
                    key: p.key.clone(),
                    value,
                    time,
                    node: Some(format!("n{}", p.client % 5 + 1)),
                    error,
                });
            }
        }
    }
    History::from_ops("synthetic", ops)
}

/// One transaction of [`list_append`]: its micro-ops (append?, key, value), whether it ends
/// indeterminate and then whether it takes effect, and its completed value.
struct PlannedTxn {
    process: u64,
    mops: Vec<(bool, i64, i64)>,
    info: bool,
    applies: bool,
    result: Option<Value>,
}

/// A strictly serializable list-append history (Elle's workload) of `txns` transactions by
/// `clients` clients: each transaction of 1–4 micro-ops (appends of unique values, reads of
/// whole lists) over 8 active keys, each key retired after 32 appends, takes effect at one
/// instant between its invoke and its completion on one true database. A fraction `info_rate`
/// end indeterminate (half of those took effect). Deterministic for a given seed.
pub fn list_append(txns: usize, clients: usize, info_rate: f64, seed: u64) -> History {
    const ACTIVE: usize = 8;
    const PER_KEY: u32 = 32;
    let mut rng = Rng::new(seed);
    let clients = clients.max(1);
    let mut active: Vec<(i64, u32)> = (0..ACTIVE as i64).map(|k| (k, 0)).collect();
    let mut next_key = ACTIVE as i64;
    let mut next_value: BTreeMap<i64, i64> = BTreeMap::new();
    let mut clock = vec![0u64; clients];
    let mut process: Vec<u64> = (0..clients as u64).collect();
    let mut next_process = clients as u64;
    let mut events: Vec<(u64, u64, u8, usize)> = Vec::with_capacity(txns * 3);
    let mut planned: Vec<PlannedTxn> = Vec::with_capacity(txns);
    for n in 0..txns {
        let client = n % clients;
        let mut mops = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let slot = rng.below(ACTIVE as u64) as usize;
            let key = active[slot].0;
            if rng.chance(0.5) {
                let v = next_value.entry(key).or_insert(0);
                *v += 1;
                mops.push((true, key, *v));
                active[slot].1 += 1;
                if active[slot].1 >= PER_KEY {
                    active[slot] = (next_key, 0);
                    next_key += 1;
                }
            } else {
                mops.push((false, key, 0));
            }
        }
        let info = rng.chance(info_rate);
        let start = clock[client] + rng.below(50);
        let effect = start + 1 + rng.below(100);
        let end = effect + 1 + rng.below(100);
        clock[client] = end + 1;
        let id = planned.len();
        planned.push(PlannedTxn { process: process[client], mops, info, applies: rng.chance(0.5), result: None });
        events.push((start, 3 * id as u64, 0, id));
        events.push((effect, 3 * id as u64 + 1, 1, id));
        events.push((end, 3 * id as u64 + 2, 2, id));
        if info {
            process[client] = next_process;
            next_process += 1;
        }
    }
    events.sort_unstable();
    let as_value = |mops: &[(bool, i64, i64)], reads: Option<&[Value]>| -> Value {
        Value::Array(
            mops.iter()
                .enumerate()
                .map(|(i, (append, k, v))| match (append, reads) {
                    (true, _) => json!(["append", k, v]),
                    (false, Some(r)) => json!(["r", k, r[i]]),
                    (false, None) => json!(["r", k, null]),
                })
                .collect(),
        )
    };
    let mut db: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut ops = Vec::with_capacity(events.len());
    for (time, _, kind, id) in events {
        let PlannedTxn { process: proc_id, mops, info, applies, result } = &mut planned[id];
        let (kind, value) = match kind {
            0 => (OpType::Invoke, as_value(mops, None)),
            1 => {
                if *info && !*applies {
                    continue;
                }
                let reads: Vec<Value> = mops
                    .iter()
                    .map(|(append, k, v)| {
                        let list = db.entry(*k).or_default();
                        if *append {
                            list.push(*v);
                            Value::Null
                        } else {
                            json!(list)
                        }
                    })
                    .collect();
                *result = Some(as_value(mops, Some(&reads)));
                continue;
            }
            _ if *info => (OpType::Info, as_value(mops, None)),
            _ => (OpType::Ok, result.clone().unwrap_or(Value::Null)),
        };
        ops.push(Op {
            index: ops.len() as u64,
            kind,
            process: Process::Client(*proc_id),
            f: "txn".into(),
            key: None,
            value,
            time,
            node: None,
            error: None,
        });
    }
    History::from_ops("synthetic-list-append", ops)
}
