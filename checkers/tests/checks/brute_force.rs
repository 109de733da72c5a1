//! A reference checker that shares nothing with the search but the models' `step`: it tries
//! every order of the ops consistent with real time over the whole history at once (no split
//! per key, no look-ahead, no merging of states, no dropping of indeterminate reads), with a
//! plain memo of (bitmask of ops done, every key's state).

use std::collections::{BTreeMap, HashSet};

use checkers::model::Model;
use history::{History, Key, Outcome};

struct RefOp<O> {
    key: Option<Key>,
    op: O,
    call: usize,
    /// `None`: indeterminate (may happen any time after the call, or never).
    ret: Option<usize>,
}

/// Whether `history` is linearizable w.r.t. `model`, by exhaustive search. Keep it small (≤ 20 ops).
pub fn linearizable<M: Model>(model: &M, history: &History) -> bool {
    let pairs = history.pair().expect("valid pairing");
    let ops: Vec<RefOp<M::Op>> = pairs
        .iter()
        .filter(|p| p.outcome != Outcome::Fail)
        .map(|p| {
            let ok = p.outcome == Outcome::Ok;
            let completion = if ok { p.completion.map(|c| &history.ops[c]) } else { None };
            RefOp {
                key: history.ops[p.invoke].key.clone(),
                op: model.parse(&history.ops[p.invoke], completion).expect("model op"),
                call: p.invoke,
                ret: if ok { p.completion } else { None },
            }
        })
        .collect();
    assert!(ops.len() <= 60, "the reference is for small histories");
    let mut seen = HashSet::new();
    dfs(model, &ops, 0, &BTreeMap::new(), &mut seen)
}

/// A configuration already explored: the ops done (a bitset) and every key's state.
type Visited<S> = (u64, Vec<(Option<Key>, S)>);

fn dfs<M: Model>(
    model: &M,
    ops: &[RefOp<M::Op>],
    done: u64,
    states: &BTreeMap<Option<Key>, M::State>,
    seen: &mut HashSet<Visited<M::State>>,
) -> bool {
    // Finished when every op with a known completion has happened.
    if ops.iter().enumerate().all(|(i, o)| o.ret.is_none() || done & (1 << i) != 0) {
        return true;
    }
    let snapshot: Vec<_> = states.iter().map(|(k, s)| (k.clone(), s.clone())).collect();
    if !seen.insert((done, snapshot)) {
        return false;
    }
    for (i, o) in ops.iter().enumerate() {
        if done & (1 << i) != 0 {
            continue;
        }
        // `o` may go next only if no pending op completed before `o` was invoked.
        let blocked = ops.iter().enumerate().any(|(j, q)| done & (1 << j) == 0 && q.ret.is_some_and(|r| r < o.call));
        if blocked {
            continue;
        }
        let current = states.get(&o.key).cloned().unwrap_or_else(|| model.init());
        if let Some(next) = model.step(&current, &o.op) {
            let mut states = states.clone();
            states.insert(o.key.clone(), next);
            if dfs(model, ops, done | (1 << i), &states, seen) {
                return true;
            }
        }
    }
    false
}
