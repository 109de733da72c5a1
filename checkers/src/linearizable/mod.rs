//! `check_linearizable`: is there a total order of the ops, consistent with real time, that the
//! model accepts? The history is split per `key` (P-compositionality), the keys are searched in
//! parallel, and the answer is three-valued: `unknown` (with its cause) past the time limit or
//! the memory budget, never an abort.

mod search;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use history::{History, HistoryError, Key, Outcome, PairedOp, Process};

use crate::checker::{CheckOptions, CheckResult, Checker};
use crate::model::Model;
use crate::models::{ModelName, ModelOptions};
use crate::CheckDetail;
use history::Validity;
use search::{Found, Limits, SearchOp, Stop};

/// Why a key (or the whole check) has no verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownCause {
    /// The time limit passed.
    TimeLimit,
    /// The memory budget would have been exceeded.
    MemoryBudget,
    /// Not decided because another key was already invalid.
    Cancelled,
    /// Stopped from outside (a signal).
    Interrupted,
}

impl UnknownCause {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            UnknownCause::TimeLimit => "the time limit was reached",
            UnknownCause::MemoryBudget => "the memory budget was reached",
            UnknownCause::Cancelled => "not decided: another key was already found invalid",
            UnknownCause::Interrupted => "the check was interrupted",
        }
    }
}

/// One op as the result refers to it: enough to find it in the history and to draw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpRef {
    /// `index` of the invoke.
    pub invoke_index: u64,
    /// `index` of the completion, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_index: Option<u64>,
    /// Source line of the invoke.
    pub line: u32,
    /// The process.
    pub process: Process,
    /// The operation.
    pub f: String,
    /// The invoke's argument.
    pub value: Value,
    /// The completion's result (for `ok` ops).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// `ok`, or `info` for an indeterminate op.
    pub outcome: Outcome,
    /// Invoke and completion times (ns); the completion time is absent when it never completed.
    pub start: u64,
    /// Completion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
}

impl OpRef {
    fn new(history: &History, pair: &PairedOp) -> OpRef {
        let invoke = &history.ops[pair.invoke];
        let completion = pair.completion.map(|c| &history.ops[c]);
        OpRef {
            invoke_index: invoke.index,
            completion_index: completion.map(|c| c.index),
            line: history.lines.get(pair.invoke).copied().unwrap_or(0),
            process: invoke.process.clone(),
            f: invoke.f.clone(),
            value: invoke.value.clone(),
            result: (pair.outcome == Outcome::Ok).then(|| completion.map(|c| c.value.clone())).flatten(),
            outcome: pair.outcome,
            start: invoke.time,
            end: completion.map(|c| c.time),
        }
    }

    /// `process 3: cas [1,2] -> ok` in words.
    pub fn describe(&self) -> String {
        let arg = if self.value.is_null() { String::new() } else { format!(" {}", self.value) };
        let ret = match (&self.outcome, &self.result) {
            (Outcome::Ok, Some(r)) if !r.is_null() && *r != self.value => format!(" -> {r}"),
            (Outcome::Ok, Some(r)) if r.is_null() && self.value.is_null() => " -> nil".to_string(),
            (Outcome::Ok, _) => " -> ok".to_string(),
            _ => " -> ? (indeterminate)".to_string(),
        };
        format!("process {}: {}{}{} (history index {}, line {})", self.process, self.f, arg, ret, self.invoke_index, self.line)
    }
}

/// One step of the longest linearizable prefix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrefixStep {
    /// The op linearized at this step.
    pub op: OpRef,
    /// The model state after it.
    pub state: Value,
}

/// Why a key is not linearizable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The op that could not be linearized after the longest prefix.
    pub op: OpRef,
    /// The longest linearizable prefix found, in linearization order, with the state after each
    /// op.
    pub prefix: Vec<PrefixStep>,
    /// The model state after the prefix.
    pub state: Value,
    /// Ops whose invoke–completion interval overlaps the failing op's.
    pub concurrent: Vec<OpRef>,
}

/// The verdict for one key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyResult {
    /// The key (`null` for a history without keys).
    pub key: Option<Key>,
    /// valid / invalid / unknown.
    pub valid: Validity,
    /// Ops checked for this key (failed ops and indeterminate reads are left out).
    pub ops: usize,
    /// Configurations the search stored.
    pub states: u64,
    /// Wall time spent on this key.
    pub elapsed_ms: f64,
    /// Peak estimated memory of this key's search.
    pub peak_bytes: usize,
    /// When `unknown`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<UnknownCause>,
    /// When `invalid`: the evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// The result of `check_linearizable`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearizabilityResult {
    /// valid if every key is; invalid if any key is; otherwise unknown.
    pub valid: Validity,
    /// The model's name.
    pub model: String,
    /// Client ops in the history (invokes).
    pub ops: usize,
    /// Ops that were checked (without failed ops and indeterminate reads).
    pub checked_ops: usize,
    /// Indeterminate ops (info or never completed) among the checked ones.
    pub indeterminate_ops: usize,
    /// Client ops left out because they failed (they definitely did not happen).
    #[serde(default)]
    pub failed_ops: usize,
    /// Indeterminate ops left out because they constrain nothing (a read with no result).
    #[serde(default)]
    pub unconstrained_ops: usize,
    /// Indeterminate ops left out because nothing could observe them (an append of a text no
    /// read shows): with or without them the verdict is the same.
    #[serde(default)]
    pub unobserved_ops: usize,
    /// Nemesis entries (fault starts and stops), which no model checks.
    #[serde(default)]
    pub nemesis_ops: usize,
    /// What an `ok` read of nil meant (register-like models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nil_read: Option<crate::models::NilRead>,
    /// Number of keys.
    pub keys: usize,
    /// Total wall time.
    pub elapsed_ms: f64,
    /// When the whole check is `unknown`: the cause of the first undecided key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<UnknownCause>,
    /// Per key, in key order.
    pub per_key: Vec<KeyResult>,
}

impl LinearizabilityResult {
    /// The keys found not linearizable.
    pub fn failures(&self) -> impl Iterator<Item = (&KeyResult, &Failure)> {
        self.per_key.iter().filter_map(|k| k.failure.as_ref().map(|f| (k, f)))
    }
}

/// One key's ops, ready for the search, and where each came from in the paired history.
type KeyOps<O> = (Vec<SearchOp<O>>, Vec<usize>);
/// The same, with its key.
type KeyPart<O> = (Option<Key>, Vec<SearchOp<O>>, Vec<usize>);

/// States shown for the last steps of a prefix; the earlier ones are left out to keep results small.
const PREFIX_STATES: usize = 64;

/// Checks `history` against `model`. Errors name the file, line and field of an op the model
/// cannot use or a broken invoke/completion pairing.
pub fn check_linearizable<M: Model>(
    model: &M,
    model_name: &str,
    history: &History,
    options: &CheckOptions,
) -> Result<LinearizabilityResult, HistoryError> {
    let started = Instant::now();
    let paired = history.pair()?;

    // Split per key and turn history ops into model ops, once.
    let mut keys: BTreeMap<Option<Key>, KeyOps<M::Op>> = BTreeMap::new();
    let mut checked_ops = 0;
    let mut indeterminate_ops = 0;
    let mut failed_ops = 0;
    let mut unconstrained_ops = 0;
    for (p, pair) in paired.iter().enumerate() {
        if pair.outcome == Outcome::Fail {
            failed_ops += 1;
            continue;
        }
        let invoke = &history.ops[pair.invoke];
        let completion = if pair.outcome == Outcome::Ok { pair.completion.map(|c| &history.ops[c]) } else { None };
        let op = model.parse(invoke, completion).map_err(|e| {
            // Point at the completion only if the fault is in its result: the invoke alone parses.
            let in_result = completion.is_some() && model.parse(invoke, None).is_ok();
            let at = if in_result { pair.completion.unwrap_or(pair.invoke) } else { pair.invoke };
            history.error_at(at, Some(e.field), e.message)
        })?;
        // An op that is legal in every state and changes none can be placed anywhere in its
        // interval: it constrains nothing, completed or not.
        if model.is_unconstrained(&op) {
            unconstrained_ops += 1;
            continue;
        }
        checked_ops += 1;
        indeterminate_ops += usize::from(completion.is_none());
        let entry = keys.entry(invoke.key.clone()).or_default();
        entry.0.push(SearchOp { op, call: pair.invoke as u64, ret: completion.and(pair.completion).map(|c| c as u64) });
        entry.1.push(p);
    }

    // Indeterminate ops that nothing could observe are left out (and counted).
    let mut unobserved_ops = 0;
    for (ops, pairs) in keys.values_mut() {
        let view: Vec<(&M::Op, bool)> = ops.iter().map(|o| (&o.op, o.ret.is_some())).collect();
        let drop = model.unobservable(&view);
        if drop.iter().any(|d| *d) {
            let mut i = 0;
            ops.retain(|_| {
                i += 1;
                !drop[i - 1]
            });
            let mut i = 0;
            pairs.retain(|_| {
                i += 1;
                !drop[i - 1]
            });
            let n = drop.iter().filter(|d| **d).count();
            unobserved_ops += n;
            checked_ops -= n;
            indeterminate_ops -= n;
        }
    }

    let limits = Limits {
        deadline: options.timeout.map(|t| started + t),
        memory_limit: options.max_memory,
        memory_used: AtomicUsize::new(0),
        cancel: AtomicBool::new(false),
        interrupt: options.interrupt.clone(),
    };
    let parts: Vec<KeyPart<M::Op>> = keys.into_iter().map(|(k, (ops, pairs))| (k, ops, pairs)).collect();
    // Largest keys first, so that one long key does not start last.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].1.len()));
    let results: Mutex<Vec<Option<KeyResult>>> = Mutex::new(vec![None; parts.len()]);
    let check_key = |i: usize| {
        let (key, ops, pairs) = &parts[i];
        let key_started = Instant::now();
        let (found, stats) = search::search(model, ops, &limits);
        let mut result = KeyResult {
            key: key.clone(),
            valid: Validity::Valid,
            ops: ops.len(),
            states: stats.states,
            elapsed_ms: key_started.elapsed().as_secs_f64() * 1e3,
            peak_bytes: stats.peak_bytes,
            cause: None,
            failure: None,
        };
        match found {
            Found::Linearizable => {}
            Found::Unknown(stop) => {
                result.valid = Validity::Unknown;
                result.cause = Some(match stop {
                    Stop::TimeLimit => UnknownCause::TimeLimit,
                    Stop::MemoryBudget => UnknownCause::MemoryBudget,
                    Stop::Cancelled => UnknownCause::Cancelled,
                    Stop::Interrupted => UnknownCause::Interrupted,
                });
            }
            Found::NotLinearizable(witness) => {
                if !options.all_keys {
                    limits.cancel.store(true, Ordering::Relaxed);
                }
                result.valid = Validity::Invalid;
                result.failure = Some(explain(model, history, &paired, ops, pairs, witness));
            }
        }
        if let Ok(mut slots) = results.lock() {
            slots[i] = Some(result);
        }
    };
    // Keys in FIFO order on the pool, so that the largest start first.
    let threads = options.threads.clamp(1, parts.len().max(1));
    let run_all = || {
        rayon::scope_fifo(|scope| {
            for &i in &order {
                let check_key = &check_key;
                scope.spawn_fifo(move |_| check_key(i));
            }
        })
    };
    if threads == 1 {
        // One key (or one thread asked for): no pool at all.
        order.iter().for_each(|&i| check_key(i));
    } else if threads == rayon::current_num_threads() {
        run_all();
    } else {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(run_all),
            // No threads to be had: check the keys one after another here.
            Err(_) => order.iter().for_each(|&i| check_key(i)),
        }
    }

    let per_key: Vec<KeyResult> = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).into_iter().flatten().collect();
    let valid = Validity::merge(per_key.iter().map(|k| k.valid));
    let cause = if valid == Validity::Unknown { per_key.iter().find_map(|k| k.cause) } else { None };
    Ok(LinearizabilityResult {
        valid,
        model: model_name.to_string(),
        ops: paired.len(),
        checked_ops,
        indeterminate_ops,
        failed_ops,
        unconstrained_ops,
        unobserved_ops,
        nemesis_ops: history.ops.iter().filter(|o| !o.is_client()).count(),
        nil_read: None,
        keys: per_key.len(),
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        cause,
        per_key,
    })
}

/// Turns the search's witness into ops and states a person (or the report) can read.
fn explain<M: Model>(
    model: &M,
    history: &History,
    paired: &[PairedOp],
    ops: &[SearchOp<M::Op>],
    pairs: &[usize],
    witness: search::Witness,
) -> Failure {
    let op_ref = |i: usize| OpRef::new(history, &paired[pairs[i]]);
    let mut state = model.init();
    let show_from = witness.prefix.len().saturating_sub(PREFIX_STATES);
    let mut prefix = Vec::with_capacity(witness.prefix.len());
    for (n, &i) in witness.prefix.iter().enumerate() {
        state = model.step(&state, &ops[i].op).unwrap_or(state);
        let shown = if n >= show_from { model.state_json(&state) } else { Value::Null };
        prefix.push(PrefixStep { op: op_ref(i), state: shown });
    }
    let culprit = &ops[witness.culprit];
    let end = culprit.ret.unwrap_or(u64::MAX);
    let concurrent = (0..ops.len())
        .filter(|&i| i != witness.culprit)
        .filter(|&i| ops[i].call < end && ops[i].ret.unwrap_or(u64::MAX) > culprit.call)
        .map(op_ref)
        .collect();
    Failure { op: op_ref(witness.culprit), prefix, state: model.state_json(&state), concurrent }
}

/// The linearizability checker: the history against a model, per key.
#[derive(Clone, Debug)]
pub struct Linearizable {
    /// The model.
    pub model: ModelName,
    /// Its initial value and what a nil read means.
    pub options: ModelOptions,
}

impl Linearizable {
    /// The checker for `model` with its defaults (nil initial value, nil reads are values).
    pub fn new(model: ModelName) -> Linearizable {
        Linearizable { model, options: ModelOptions::default() }
    }
}

impl Checker for Linearizable {
    fn name(&self) -> &'static str {
        "linearizable"
    }

    fn check(&self, history: &History, options: &CheckOptions) -> Result<CheckResult, HistoryError> {
        let result = self.model.check(&self.options, history, options)?;
        Ok(CheckResult { valid: result.valid, detail: CheckDetail::Linearizable(result) })
    }
}
