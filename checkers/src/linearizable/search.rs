//! The search for one key: Wing & Gong / Lowe "just-in-time" linearization, as in Porcupine,
//! with three changes that matter on real histories.
//!
//! 1. **Indeterminate ops have no return.** An op that ended `info` (or never ended) may take
//!    effect at any time after its invoke, or never; placing it after everything is the same as
//!    never. So the search succeeds as soon as every `ok` op is linearized, and never has to
//!    carry open `info` ops to the end of the history.
//! 2. **Identical indeterminate ops are interchangeable.** Two open `info` ops with the same
//!    model op (say two timed-out `write 3`) lead to the same states; the search only ever
//!    linearizes such twins in invoke order, which cuts the 2^k subsets of k twins to k+1.
//!    (Sound: the earlier twin is available wherever the later one is, since neither returns.)
//! 3. **The memo table keys on a Zobrist hash** of the set of linearized ops (128 bits, updated
//!    in O(1) per step) plus the model state, instead of a bitset of the whole key's history,
//!    which costs O(n/64) to hash and store per entry. A wrong "seen before" would need two
//!    different sets with equal 128-bit hashes among the entries of one search: below 2^-64 even
//!    for 2^32 entries.
//!
//! 4. **Look-ahead and forgetting, through optional model hooks.** After each step the search
//!    asks the model whether the next few pending returns are still reachable with the ops
//!    invoked before them ([`Model::may_reach`]: a get of "ab" cannot follow the string "b"
//!    without a put); and whether any pending op can still observe the new state at all
//!    ([`Model::forget`]), so that states which must be overwritten are merged. Both are
//!    necessary conditions, so pruning with them is sound; on Porcupine's c50-bad they turn an
//!    out-of-memory search into milliseconds.
//!
//! The search stops with `Unknown` at the time limit, at the memory budget (checked before the
//! memo table grows, so it never allocates past it) or when cancelled.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::Model;

/// One op of a key's history, ready for the search.
#[derive(Clone, Debug)]
pub(crate) struct SearchOp<O> {
    /// The model's op.
    pub op: O,
    /// Position of the invoke in the history (real-time order).
    pub call: u64,
    /// Position of the `ok` completion; `None` for an indeterminate op.
    pub ret: Option<u64>,
}

/// Why a search ended without a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    TimeLimit,
    MemoryBudget,
    Cancelled,
}

/// Limits shared by all keys of one check.
pub(crate) struct Limits {
    pub deadline: Option<Instant>,
    pub memory_limit: usize,
    pub memory_used: AtomicUsize,
    pub cancel: AtomicBool,
}

impl Limits {
    fn check(&self) -> Option<Stop> {
        if self.cancel.load(Ordering::Relaxed) {
            return Some(Stop::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Stop::TimeLimit);
        }
        None
    }
}

/// The deepest point the search reached in a non-linearizable history. (The state after the
/// prefix is recomputed by replaying it: the search's own may be a merged stand-in.)
#[derive(Clone, Debug)]
pub(crate) struct Witness {
    /// Ops (indices into the key's ops) in the order they were linearized.
    pub prefix: Vec<usize>,
    /// The `ok` op whose return was reached without being able to linearize it.
    pub culprit: usize,
}

/// What the search found.
#[derive(Debug)]
pub(crate) enum Found {
    Linearizable,
    NotLinearizable(Witness),
    Unknown(Stop),
}

/// Counters for the result and the benchmark.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    /// Distinct (set, state) configurations stored.
    pub states: u64,
    /// Peak estimated memory of this search, in bytes.
    pub peak_bytes: usize,
}

const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;
const NO_CLASS: u32 = u32::MAX;
/// How many pending returns the look-ahead examines after each step.
const LOOKAHEAD_RETURNS: usize = 4;
/// Limits are looked at every this many steps.
const CHECK_EVERY: u64 = 1 << 10;

/// The call/return entries in real-time order, as a doubly linked list whose nodes can be lifted
/// out and put back (dancing links).
struct EntryList {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per node: the op index, and whether it is the op's return.
    op: Vec<u32>,
    is_ret: Vec<bool>,
    call_node: Vec<u32>,
    ret_node: Vec<u32>,
}

impl EntryList {
    fn new<O>(ops: &[SearchOp<O>]) -> EntryList {
        let mut events: Vec<(u64, u32, bool)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.call, i as u32, false));
            if let Some(r) = op.ret {
                events.push((r, i as u32, true));
            }
        }
        events.sort_unstable_by_key(|&(pos, _, is_ret)| (pos, is_ret));
        let nodes = events.len() + 1;
        let mut list = EntryList {
            next: vec![NIL; nodes],
            prev: vec![NIL; nodes],
            op: vec![NIL; nodes],
            is_ret: vec![false; nodes],
            call_node: vec![NIL; ops.len()],
            ret_node: vec![NIL; ops.len()],
        };
        for (k, &(_, op, is_ret)) in events.iter().enumerate() {
            let node = k as u32 + 1;
            list.prev[node as usize] = node - 1;
            list.next[(node - 1) as usize] = node;
            list.op[node as usize] = op;
            list.is_ret[node as usize] = is_ret;
            if is_ret {
                list.ret_node[op as usize] = node;
            } else {
                list.call_node[op as usize] = node;
            }
        }
        list
    }

    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        if n != NIL {
            self.prev[n as usize] = node;
        }
    }

    /// Takes an op's call and return out of the list.
    fn lift(&mut self, op: usize) {
        self.unlink(self.call_node[op]);
        if self.ret_node[op] != NIL {
            self.unlink(self.ret_node[op]);
        }
    }

    /// The look-ahead: each of the first few pending returns must still be reachable using only
    /// the ops invoked before it.
    /// Returns the first op that can no longer be reached, if any.
    fn unreachable_return<'o, M: Model>(
        &self,
        model: &M,
        ops: &'o [SearchOp<M::Op>],
        state: &M::State,
        available: &mut Vec<&'o M::Op>,
    ) -> Option<usize> {
        available.clear();
        let mut returns_checked = 0;
        let mut node = self.next[HEAD as usize];
        while node != NIL && returns_checked < LOOKAHEAD_RETURNS {
            let i = self.op[node as usize] as usize;
            if self.is_ret[node as usize] {
                if !model.may_reach(state, &ops[i].op, available) {
                    return Some(i);
                }
                returns_checked += 1;
            } else {
                available.push(&ops[i].op);
            }
            node = self.next[node as usize];
        }
        None
    }

    /// The ops whose returns are still in the list, earliest return first.
    fn pending_returns<'o, O>(&'o self, ops: &'o [SearchOp<O>]) -> impl Iterator<Item = (usize, &'o O)> + 'o {
        let mut node = self.next[HEAD as usize];
        std::iter::from_fn(move || {
            while node != NIL {
                let here = node as usize;
                node = self.next[here];
                if self.is_ret[here] {
                    let op = self.op[here] as usize;
                    return Some((op, &ops[op].op));
                }
            }
            None
        })
    }

    /// Puts them back, in reverse order.
    fn unlift(&mut self, op: usize) {
        if self.ret_node[op] != NIL {
            self.relink(self.ret_node[op]);
        }
        self.relink(self.call_node[op]);
    }
}

/// 128 pseudo-random bits per op, from a fixed seed: the search is deterministic.
fn zobrist_keys(n: usize) -> Vec<u128> {
    let mut seed = 0x243F_6A88_85A3_08D3_u64;
    (0..n)
        .map(|_| {
            let hi = crate::rng::splitmix(&mut seed) as u128;
            let lo = crate::rng::splitmix(&mut seed) as u128;
            (hi << 64) | lo
        })
        .collect()
}

/// Indeterminate ops with equal model ops form a class; returns (class, rank within class) per op.
fn twin_classes<O: Eq + std::hash::Hash>(ops: &[SearchOp<O>]) -> (Vec<u32>, Vec<u32>, usize) {
    let mut class_of: FxHashMap<&O, u32> = FxHashMap::default();
    let mut sizes: Vec<u32> = Vec::new();
    let mut class = vec![NO_CLASS; ops.len()];
    let mut rank = vec![0; ops.len()];
    // Ranks follow invoke order, so visit ops by their call position.
    let mut order: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].ret.is_none()).collect();
    order.sort_unstable_by_key(|&i| ops[i].call);
    for i in order {
        let next = class_of.len() as u32;
        let c = *class_of.entry(&ops[i].op).or_insert(next);
        if c as usize == sizes.len() {
            sizes.push(0);
        }
        class[i] = c;
        rank[i] = sizes[c as usize];
        sizes[c as usize] += 1;
    }
    (class, rank, sizes.len())
}

/// Bytes a hash table of this capacity allocates: buckets are the next power of two above
/// capacity × 8/7, each an entry plus a control byte.
fn table_bytes(capacity: usize, entry_bytes: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    (capacity * 8 / 7).max(1).next_power_of_two() * entry_bytes
}

struct Frame<S> {
    op: u32,
    prev_state: S,
}

/// The deepest failure seen: the prefix linearized when some pending op was found impossible.
/// Kept incrementally: `prefix[..valid]` always equals the bottom of the current stack, so each
/// new record copies only what changed since the last one.
#[derive(Default)]
struct Deepest {
    prefix: Vec<u32>,
    valid: usize,
    found: Option<(usize, usize)>, // (depth, culprit)
}

impl Deepest {
    fn record<S>(&mut self, stack: &[Frame<S>], culprit: usize) {
        if self.found.is_some_and(|(depth, _)| stack.len() <= depth) {
            return;
        }
        self.prefix.truncate(self.valid);
        self.prefix.extend(stack[self.valid..].iter().map(|f| f.op));
        self.valid = stack.len();
        self.found = Some((stack.len(), culprit));
    }

    fn stack_shrank_to(&mut self, len: usize) {
        self.valid = self.valid.min(len);
    }

    fn into_witness(self) -> Witness {
        let (depth, culprit) = self.found.unwrap_or((0, 0));
        Witness { prefix: self.prefix[..depth].iter().map(|&o| o as usize).collect(), culprit }
    }
}

/// Decides whether `ops` (one key) are linearizable with respect to `model`.
pub(crate) fn search<M: Model>(model: &M, ops: &[SearchOp<M::Op>], limits: &Limits) -> (Found, Stats) {
    let mut stats = Stats::default();
    let mut list = EntryList::new(ops);
    let zobrist = zobrist_keys(ops.len());
    let (class, rank, classes) = twin_classes(ops);
    let mut taken = vec![0u32; classes];

    let mut remaining_ok = ops.iter().filter(|o| o.ret.is_some()).count();
    let mut state = model.init();
    let mut linearized: u128 = 0;
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut memo: FxHashSet<(u128, M::State)> = FxHashSet::default();
    let mut heap_bytes = 0usize;
    let mut published = 0usize;

    let mut best = Deepest::default();

    let entry_bytes = std::mem::size_of::<(u128, M::State)>() + 1;
    let frame_bytes = std::mem::size_of::<Frame<M::State>>();
    let mut available: Vec<&M::Op> = Vec::new();
    let mut steps = 0u64;
    let mut cur = list.next[HEAD as usize];

    let outcome = loop {
        if remaining_ok == 0 {
            break Found::Linearizable;
        }
        steps += 1;
        if steps % CHECK_EVERY == 0 {
            let estimate = table_bytes(memo.capacity(), entry_bytes) + 2 * heap_bytes + stack.capacity() * frame_bytes;
            stats.peak_bytes = stats.peak_bytes.max(estimate);
            if estimate > published {
                limits.memory_used.fetch_add(estimate - published, Ordering::Relaxed);
            } else {
                limits.memory_used.fetch_sub(published - estimate, Ordering::Relaxed);
            }
            published = estimate;
            if let Some(stop) = limits.check() {
                break Found::Unknown(stop);
            }
        }

        if cur == NIL || list.is_ret[cur as usize] {
            // The earliest pending return: its op must be linearized before anything after it,
            // and it was not. Record how far we got, then undo the last choice.
            // (`cur == NIL` is the look-ahead's dead end: record nothing, just undo.)
            if cur != NIL {
                best.record(&stack, list.op[cur as usize] as usize);
            }
            let Some(frame) = stack.pop() else {
                break Found::NotLinearizable(best.into_witness());
            };
            let op = frame.op as usize;
            state = frame.prev_state;
            linearized ^= zobrist[op];
            list.unlift(op);
            if ops[op].ret.is_some() {
                remaining_ok += 1;
            }
            if class[op] != NO_CLASS {
                taken[class[op] as usize] -= 1;
            }
            best.stack_shrank_to(stack.len());
            cur = list.next[list.call_node[op] as usize];
            continue;
        }

        let op = list.op[cur as usize] as usize;
        let in_turn = class[op] == NO_CLASS || taken[class[op] as usize] == rank[op];
        if in_turn {
            if let Some(mut next_state) = model.step(&state, &ops[op].op) {
                let next_set = linearized ^ zobrist[op];
                if M::FORGETS {
                    // The op is about to be linearized: it no longer counts as pending.
                    let mut pending = list.pending_returns(ops).filter(|&(i, _)| i != op).map(|(_, o)| o);
                    if let Some(stand_in) = model.forget(&next_state, &mut pending) {
                        next_state = stand_in;
                    }
                }
                if memo.len() == memo.capacity() {
                    // The table is about to double, and while it moves the old and the new table
                    // both exist: refuse if that would pass the budget.
                    let table = table_bytes(memo.capacity(), entry_bytes);
                    let grown = 2 * table.max(16 * entry_bytes);
                    let others = limits.memory_used.load(Ordering::Relaxed).saturating_sub(published);
                    let needed = table + grown + 2 * heap_bytes + stack.capacity() * frame_bytes;
                    if others + needed > limits.memory_limit {
                        break Found::Unknown(Stop::MemoryBudget);
                    }
                }
                let bytes = model.state_heap_bytes(&next_state);
                if memo.insert((next_set, next_state.clone())) {
                    heap_bytes += bytes;
                    stats.states += 1;
                    let prev_state = std::mem::replace(&mut state, next_state);
                    stack.push(Frame { op: op as u32, prev_state });
                    linearized = next_set;
                    list.lift(op);
                    if ops[op].ret.is_some() {
                        remaining_ok -= 1;
                    }
                    if class[op] != NO_CLASS {
                        taken[class[op] as usize] += 1;
                    }
                    cur = list.next[HEAD as usize];
                    if M::LOOKS_AHEAD {
                        if let Some(culprit) = list.unreachable_return(model, ops, &state, &mut available) {
                            // A pending return can no longer be reached from here: the new state
                            // is a dead end (its memo entry keeps it from being tried again).
                            best.record(&stack, culprit);
                            cur = NIL;
                        }
                    }
                    continue;
                }
            }
        }
        cur = list.next[cur as usize];
    };

    let estimate = table_bytes(memo.capacity(), entry_bytes) + 2 * heap_bytes + stack.capacity() * frame_bytes;
    stats.peak_bytes = stats.peak_bytes.max(estimate);
    limits.memory_used.fetch_sub(published, Ordering::Relaxed);
    (outcome, stats)
}
