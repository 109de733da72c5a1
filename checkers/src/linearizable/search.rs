//! The search for one key: Wing & Gong / Lowe "just-in-time" linearization, as in Porcupine,
//! with these changes, which matter on real histories.
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
//! 4. **Fewer indeterminate ops placed subsumes more.** A configuration that failed with some
//!    `info` ops placed also rules out every configuration with the same `ok` ops, the same
//!    state and a superset of those `info` ops placed (see [`Memo`]). And the search tries the
//!    `ok` ops before the `info` ones at each step, so the configurations it stores first are
//!    the ones that subsume most. Histories from partitions, where many writes time out and most
//!    never took effect, are where this matters: a 3,000-op register with 600 open `info` ops
//!    went from about a second to a few milliseconds.
//! 5. **Look-ahead and forgetting, through optional model hooks.** After each step the search
//!    asks the model whether the next few pending returns are still reachable with the ops
//!    invoked before them ([`Model::may_reach`]: a get of "ab" cannot follow the string "b"
//!    without a put); and whether any pending op can still observe the new state at all
//!    ([`Model::forget`]), so that states which must be overwritten are merged. Both are
//!    necessary conditions, so pruning with them is sound; on Porcupine's c50-bad they turn an
//!    out-of-memory search into milliseconds.
//!
//! 6. **Reads are taken at once.** An `ok` op that changes no state ([`Model::is_read_only`])
//!    and that the current state accepts is linearized immediately, without trying the
//!    alternatives: any linearization that has it later can have it now (it was invoked before
//!    every pending return, and every state after is the same). With many concurrent clients
//!    this removes the orders among concurrent reads, which were most of the search.
//! 7. **An indeterminate write is placed only right before an op that observes it**
//!    ([`Model::needs_observer`]): a register's write or cas that is placed and not observed at
//!    once is followed by an op that ignores the value (a write), so leaving it out gives the
//!    same states; every linearization has such a form. After placing one, only an observer of
//!    the new value may follow (configurations awaiting one are memoised apart, as they have
//!    fewer ways on). On 30–50 clients with 10–20 % `info` ops landing at any time, this and
//!    (6) took histories that reached the 10 s limit to milliseconds.
//!
//! Before the search, indeterminate ops that nothing could observe are left out and counted
//! ([`Model::unobservable`]: a kv append of a text no get returned).
//!
//! The search stops with `Unknown` at the time limit, at the memory budget (checked before the
//! memo table grows, so it never allocates past it) or when cancelled.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use rustc_hash::FxHashMap;

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
    Interrupted,
}

/// Limits shared by all keys of one check.
pub(crate) struct Limits {
    pub deadline: Option<Instant>,
    pub memory_limit: usize,
    pub memory_used: AtomicUsize,
    pub cancel: AtomicBool,
    /// Set from outside the check (a second Ctrl-C): stop every key.
    pub interrupt: Option<std::sync::Arc<AtomicBool>>,
}

impl Limits {
    fn check(&self) -> Option<Stop> {
        if self.cancel.load(Ordering::Relaxed) {
            return Some(Stop::Cancelled);
        }
        if self.interrupt.as_ref().is_some_and(|i| i.load(Ordering::Relaxed)) {
            return Some(Stop::Interrupted);
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
/// Mixed into the memo key of a configuration that awaits an observer.
const AWAITS_OBSERVER: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C834;
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

    /// Position of the earliest pending return once `op` is linearized (MAX if none is left).
    fn first_pending_return<O>(&self, ops: &[SearchOp<O>], op: usize) -> u64 {
        self.pending_returns(ops).find(|&(i, _)| i != op).and_then(|(i, _)| ops[i].ret).unwrap_or(u64::MAX)
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
            let hi = history::rng::splitmix(&mut seed) as u128;
            let lo = history::rng::splitmix(&mut seed) as u128;
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
    /// Taken without alternatives (see `forced_op`): when it fails, so does the configuration
    /// before it.
    forced: bool,
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

/// How many of the most recently invoked indeterminate ops the memo compares by subset; older
/// ones are compared by equality (through the hash).
const WINDOW: usize = 128;

/// The memo table. A configuration is the set of ops linearized and the model state. Every
/// configuration stored was explored without success, so a new one is hopeless if a stored one
/// with the same state and the same `ok` ops linearized had placed *a subset* of its `info` ops:
/// that one had all of the new one's options and more (an `info` op may always be left out).
///
/// The subset test looks at the [`WINDOW`] `info` ops invoked last before the earliest pending
/// return (`info` ops invoked after it cannot have been placed yet); the rest of the set is in
/// the key's 128-bit Zobrist hash. For each (hash, state) the table keeps a chain of window
/// bitsets in an arena, as an antichain: a new set unlinks the stored ones it subsumes, which
/// keeps the chains short (on a lease-read history with 35 open `info` ops, 3.5 s became 0.5 s).
struct Memo<S> {
    heads: FxHashMap<(u128, S), u32>,
    masks: Vec<u128>,
    next: Vec<u32>,
}

impl<S: std::hash::Hash + Eq + Clone> Memo<S> {
    const ENTRY: usize = std::mem::size_of::<((u128, S), u32)>() + 1;

    fn new() -> Memo<S> {
        Memo { heads: FxHashMap::default(), masks: Vec::new(), next: Vec::new() }
    }

    /// Stores the configuration unless one that subsumes it is stored; true if it was new.
    fn insert(&mut self, hash: u128, state: &S, window: u128) -> bool {
        let entry = self.next.len() as u32;
        let head = match self.heads.get_mut(&(hash, state.clone())) {
            Some(head) => {
                // Walk the chain: stop if a stored set subsumes the new one; unlink the stored
                // sets the new one subsumes, so that the chain stays an antichain.
                let (mut prev, mut at) = (NIL, *head);
                while at != NIL {
                    let old = self.masks[at as usize];
                    let next = self.next[at as usize];
                    if old & !window == 0 {
                        return false;
                    }
                    if window & !old == 0 {
                        if prev == NIL {
                            *head = next;
                        } else {
                            self.next[prev as usize] = next;
                        }
                    } else {
                        prev = at;
                    }
                    at = next;
                }
                std::mem::replace(head, entry)
            }
            None => {
                self.heads.insert((hash, state.clone()), entry);
                NIL
            }
        };
        self.masks.push(window);
        self.next.push(head);
        true
    }

    fn arena_bytes(&self) -> usize {
        self.masks.capacity() * 16 + self.next.capacity() * 4
    }

    /// Bytes allocated by the table and the arena.
    fn bytes(&self) -> usize {
        table_bytes(self.heads.capacity(), Self::ENTRY) + self.arena_bytes()
    }

    /// Whether the next insert may reallocate.
    fn full(&self) -> bool {
        self.heads.len() == self.heads.capacity() || self.next.len() == self.next.capacity()
    }

    /// Bytes held while the table and the arena double (old and new both exist).
    fn bytes_if_grown(&self) -> usize {
        let table = table_bytes(self.heads.capacity(), Self::ENTRY);
        table + 2 * table.max(16 * Self::ENTRY) + 3 * self.arena_bytes().max(64)
    }
}

/// The indeterminate ops of a key, in invoke order, and which of them are placed.
struct InfoOps {
    /// Per op: its rank among the info ops (NIL for `ok` ops).
    rank: Vec<u32>,
    /// Per rank: the op, and its call position.
    op: Vec<usize>,
    call: Vec<u64>,
    placed: Vec<u64>,
    /// Zobrist hash of the placed ones.
    hash: u128,
}

impl InfoOps {
    fn new<O>(ops: &[SearchOp<O>]) -> InfoOps {
        let mut op: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].ret.is_none()).collect();
        op.sort_unstable_by_key(|&i| ops[i].call);
        let mut rank = vec![NIL; ops.len()];
        for (r, &i) in op.iter().enumerate() {
            rank[i] = r as u32;
        }
        let call = op.iter().map(|&i| ops[i].call).collect();
        InfoOps { rank, call, placed: vec![0; op.len().div_ceil(64)], op, hash: 0 }
    }

    fn toggle(&mut self, op: usize, zobrist: &[u128]) {
        let r = self.rank[op] as usize;
        self.placed[r / 64] ^= 1 << (r % 64);
        self.hash ^= zobrist[op];
    }

    /// The window of those invoked before `frontier` (a position), and the hash of the placed
    /// ones outside it.
    fn window(&self, frontier: u64, zobrist: &[u128]) -> (u128, u128) {
        let end = self.call.partition_point(|&c| c < frontier);
        let start = end.saturating_sub(WINDOW);
        let (mut window, mut hash) = (0u128, self.hash);
        // The window's bits, a word at a time; each placed one leaves the hash.
        let mut r = start;
        while r < end {
            let (word, bit) = (r / 64, r % 64);
            let take = (64 - bit).min(end - r);
            let mut bits = (self.placed[word] >> bit) & (u64::MAX >> (64 - take));
            window |= (bits as u128) << (r - start);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                hash ^= zobrist[self.op[r + b]];
                bits &= bits - 1;
            }
            r += take;
        }
        (window, hash)
    }
}

/// Where the search looks for its next op: `ok` ops first, then `info` ops, each pass over the
/// ops invoked before the earliest pending return. Trying to leave indeterminate ops out first
/// stores the configurations with the fewest of them placed first, which subsume the most.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Ok,
    Info,
}

/// An `ok` read-only op ([`Model::is_read_only`]) that may be linearized now (a read of the
/// value held): taking it at once loses nothing. Any linearization from here that has it later
/// can have it first instead — it changes no state, so every state after is the same, and it
/// was invoked before every pending return, so no real-time order is broken. Its alternatives
/// need not be tried.
fn forced_op<M: Model>(list: &EntryList, model: &M, ops: &[SearchOp<M::Op>], state: &M::State, awaits_observer: bool) -> Option<usize> {
    let mut node = list.next[HEAD as usize];
    while node != NIL && !list.is_ret[node as usize] {
        let op = list.op[node as usize] as usize;
        let o = &ops[op].op;
        if ops[op].ret.is_some()
            && model.is_read_only(o)
            && (!awaits_observer || model.observes(o, state))
            && model.step(state, o).is_some()
        {
            return Some(op);
        }
        node = list.next[node as usize];
    }
    None
}

/// Whether doubling the memo table would pass the budget: while it moves, the old and the new
/// table both exist. `rest`: the search's other bytes.
fn growing_passes_budget<S: std::hash::Hash + Eq + Clone>(memo: &Memo<S>, limits: &Limits, published: usize, rest: usize) -> bool {
    let others = limits.memory_used.load(Ordering::Relaxed).saturating_sub(published);
    others + memo.bytes_if_grown() + rest > limits.memory_limit
}

/// Decides whether `ops` (one key) are linearizable with respect to `model`.
pub(crate) fn search<M: Model>(model: &M, ops: &[SearchOp<M::Op>], limits: &Limits) -> (Found, Stats) {
    let mut stats = Stats::default();
    let mut list = EntryList::new(ops);
    let zobrist = zobrist_keys(ops.len());
    let (class, rank, classes) = twin_classes(ops);
    let mut taken = vec![0u32; classes];
    let mut infos = InfoOps::new(ops);

    let mut remaining_ok = ops.iter().filter(|o| o.ret.is_some()).count();
    let mut state = model.init();
    let mut ok_set: u128 = 0;
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut memo: Memo<M::State> = Memo::new();
    let mut heap_bytes = 0usize;
    let mut published = 0usize;

    let mut best = Deepest::default();

    let frame_bytes = std::mem::size_of::<Frame<M::State>>();
    let mut available: Vec<&M::Op> = Vec::new();
    let mut steps = 0u64;
    let mut cur = list.next[HEAD as usize];
    let mut pass = Pass::Ok;
    // The look-ahead found the newest state hopeless: undo it at once.
    let mut dead_end = false;
    // The last op placed is indeterminate and must be observed next (Model::needs_observer).
    let mut awaits_observer = false;
    // Look for an op to take without alternatives before scanning (after each step).
    let mut try_forced = true;

    let outcome = loop {
        if remaining_ok == 0 {
            break Found::Linearizable;
        }
        steps += 1;
        if steps.is_multiple_of(CHECK_EVERY) {
            let estimate = memo.bytes() + 2 * heap_bytes + stack.capacity() * frame_bytes;
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

        if try_forced && !dead_end {
            try_forced = false;
            if let Some(op) = forced_op(&list, model, ops, &state, awaits_observer) {
                if memo.full() && growing_passes_budget(&memo, limits, published, 2 * heap_bytes + stack.capacity() * frame_bytes) {
                    break Found::Unknown(Stop::MemoryBudget);
                }
                let next_set = ok_set ^ zobrist[op];
                let (window, info_hash) = infos.window(list.first_pending_return(ops, op), &zobrist);
                if !memo.insert(next_set ^ info_hash, &state, window) {
                    // Seen before, and it failed: so does this configuration.
                    dead_end = true;
                    continue;
                }
                stats.states += 1;
                stack.push(Frame { op: op as u32, prev_state: state.clone(), forced: true });
                ok_set = next_set;
                awaits_observer = false;
                list.lift(op);
                remaining_ok -= 1;
                cur = list.next[HEAD as usize];
                pass = Pass::Ok;
                try_forced = true;
                continue;
            }
        }

        if dead_end || cur == NIL || list.is_ret[cur as usize] {
            if pass == Pass::Ok && !dead_end {
                pass = Pass::Info;
                cur = list.next[HEAD as usize];
                continue;
            }
            // The earliest pending return: its op must be linearized before anything after it,
            // and it was not. Record how far we got, then undo the last choice.
            if !dead_end && cur != NIL {
                best.record(&stack, list.op[cur as usize] as usize);
            }
            let Some(frame) = stack.pop() else {
                break Found::NotLinearizable(best.into_witness());
            };
            let op = frame.op as usize;
            state = frame.prev_state;
            list.unlift(op);
            if ops[op].ret.is_some() {
                ok_set ^= zobrist[op];
                remaining_ok += 1;
                pass = Pass::Ok;
            } else {
                infos.toggle(op, &zobrist);
                taken[class[op] as usize] -= 1;
                pass = Pass::Info;
            }
            best.stack_shrank_to(stack.len());
            // A forced op was the only way on from the configuration before it.
            dead_end = frame.forced;
            awaits_observer = stack.last().is_some_and(|f| {
                let top = f.op as usize;
                ops[top].ret.is_none() && model.needs_observer(&ops[top].op)
            });
            cur = list.next[list.call_node[op] as usize];
            continue;
        }

        let op = list.op[cur as usize] as usize;
        let is_ok = ops[op].ret.is_some();
        let in_pass = is_ok == (pass == Pass::Ok);
        let in_turn = is_ok || taken[class[op] as usize] == rank[op];
        // Right after an indeterminate op that must be observed, only an observer may follow.
        let allowed = !awaits_observer || model.observes(&ops[op].op, &state);
        if in_pass && in_turn && allowed {
            if let Some(mut next_state) = model.step(&state, &ops[op].op) {
                if M::FORGETS {
                    // The op is about to be linearized: it no longer counts as pending.
                    let mut pending = list.pending_returns(ops).filter(|&(i, _)| i != op).map(|(_, o)| o);
                    if let Some(stand_in) = model.forget(&next_state, &mut pending) {
                        next_state = stand_in;
                    }
                }
                if memo.full() && growing_passes_budget(&memo, limits, published, 2 * heap_bytes + stack.capacity() * frame_bytes) {
                    break Found::Unknown(Stop::MemoryBudget);
                }
                let next_set = if is_ok { ok_set ^ zobrist[op] } else { ok_set };
                if !is_ok {
                    infos.toggle(op, &zobrist);
                }
                let (window, info_hash) = infos.window(list.first_pending_return(ops, op), &zobrist);
                // A configuration that awaits an observer has fewer ways on than the same one
                // that does not: the two are remembered apart.
                let awaits = !is_ok && model.needs_observer(&ops[op].op);
                let salt = if awaits { AWAITS_OBSERVER } else { 0 };
                if memo.insert(next_set ^ info_hash ^ salt, &next_state, window) {
                    heap_bytes += model.state_heap_bytes(&next_state);
                    stats.states += 1;
                    let prev_state = std::mem::replace(&mut state, next_state);
                    stack.push(Frame { op: op as u32, prev_state, forced: false });
                    ok_set = next_set;
                    awaits_observer = awaits;
                    list.lift(op);
                    if is_ok {
                        remaining_ok -= 1;
                    } else {
                        taken[class[op] as usize] += 1;
                    }
                    cur = list.next[HEAD as usize];
                    pass = Pass::Ok;
                    try_forced = true;
                    if M::LOOKS_AHEAD {
                        if let Some(culprit) = list.unreachable_return(model, ops, &state, &mut available) {
                            // A pending return can no longer be reached from here: the new state
                            // is a dead end (its memo entry keeps it from being tried again).
                            best.record(&stack, culprit);
                            dead_end = true;
                        }
                    }
                    continue;
                }
                if !is_ok {
                    infos.toggle(op, &zobrist);
                }
            }
        }
        cur = list.next[cur as usize];
    };

    let estimate = memo.bytes() + 2 * heap_bytes + stack.capacity() * frame_bytes;
    stats.peak_bytes = stats.peak_bytes.max(estimate);
    limits.memory_used.fetch_sub(published, Ordering::Relaxed);
    (outcome, stats)
}
