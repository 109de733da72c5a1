//! The dependency graph (petgraph) and the search for its cycles.
//!
//! Strongly connected components of the whole graph come first (Tarjan): a history without a
//! component of two or more transactions has no cycle, whatever the model. Inside each
//! component the search looks for the most specific cycles first, each the shortest through
//! the edge it starts from (breadth-first): G0 (write-write edges only), G1c (adds write-read),
//! G-single (exactly one read-write anti-dependency: from its head back to its tail without
//! another), G-nonadjacent (no two anti-dependencies in a row) and G2-item (any). With process
//! or real-time edges in the model, the same searches run again with them, and a cycle that
//! needs them is named `-process` or `-realtime`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use history::Outcome;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

use super::orders::{self, external_len, Orders};
use super::txns::{Mop, Txns};
use super::{Class, Found, Members, Relation, Via};
use crate::checker::CheckOptions;

pub(crate) const WW: u8 = 1;
pub(crate) const WR: u8 = 2;
pub(crate) const RW: u8 = 4;
pub(crate) const PROCESS: u8 = 8;
pub(crate) const REALTIME: u8 = 16;

/// Cycles of one kind explained per component; past it they are only counted.
const PER_COMPONENT: usize = 3;
/// Anti-dependencies tried as the start of a G-single (and then of a G-nonadjacent) per
/// component; past it the component's search is not exhaustive.
pub(crate) const MAX_ATTEMPTS: usize = 256;
/// Breadth-first steps the whole search may take before it gives up with `unknown`.
const MAX_WORK: u64 = 400_000_000;

/// When to stop.
pub(crate) struct Budget<'a> {
    deadline: Option<Instant>,
    options: &'a CheckOptions,
}

impl<'a> Budget<'a> {
    pub fn new(started: Instant, options: &'a CheckOptions) -> Budget<'a> {
        Budget { deadline: options.timeout.map(|t| started + t), options }
    }

    /// Why to stop now, if so.
    fn exceeded(&self) -> Option<String> {
        if self.options.interrupt.as_ref().is_some_and(|i| i.load(Ordering::Relaxed)) {
            return Some("interrupted".into());
        }
        match self.deadline {
            Some(d) if Instant::now() > d => Some(format!(
                "time limit: the cycle search did not finish within {:.1} s",
                self.options.timeout.unwrap_or(Duration::ZERO).as_secs_f64()
            )),
            _ => None,
        }
    }
}

/// The graph and what the search found about it.
pub(crate) struct Search {
    pub orders: Orders,
    pub info_committed: usize,
    pub edges: usize,
    pub components: usize,
    pub largest: usize,
    /// Why the search stopped before it was done.
    pub cut_short: Option<String>,
    /// False when some component had more anti-dependencies than were tried as G-single or
    /// G-nonadjacent starts (it has a cycle; whether one of those kinds is unknown).
    pub exhaustive: bool,
}

/// The preferred relation among those an edge carries, within `mask`: anti-dependencies last,
/// so that a cycle uses as few as it can.
fn pick(bits: u8) -> Option<u8> {
    [WW, WR, PROCESS, REALTIME, RW].into_iter().find(|b| bits & b != 0)
}

fn relation(bit: u8) -> Relation {
    match bit {
        WW => Relation::Ww,
        WR => Relation::Wr,
        RW => Relation::Rw,
        PROCESS => Relation::Process,
        _ => Relation::Realtime,
    }
}

impl Search {
    pub fn run(txns: &Txns, extra: u8, budget: &Budget<'_>, max_memory: usize, found: &mut Found) -> Search {
        let orders = orders::infer(txns, found);
        let n = txns.txns.len();
        // Which transactions are in the graph: the ok ones, and the indeterminate ones whose
        // appends were read (they committed).
        let mut in_graph: Vec<bool> = txns.txns.iter().map(|t| t.outcome == Outcome::Ok).collect();
        let mut info_committed = 0;
        for (id, t) in txns.txns.iter().enumerate() {
            if t.outcome == Outcome::Info
                && t.mops.iter().any(|m| matches!(m, Mop::Append { key, value } if orders.pos.contains_key(&(*key, *value))))
            {
                in_graph[id] = true;
                info_committed += 1;
            }
        }
        let mut search = Search { orders, info_committed, edges: 0, components: 0, largest: 0, cut_short: None, exhaustive: true };
        // The transactions as read and the version orders first, then the graph: its edges
        // (the list, then petgraph's copy) and its nodes.
        let base = txns.bytes() + search.orders.pos.len() * 24 + n * 16;
        let over = |edges: usize| {
            let bytes = base + edges * 32;
            (bytes > max_memory).then(|| {
                format!(
                    "memory budget: the transactions and their dependency graph ({edges} edges so far) need about {} MiB of the {} MiB allowed",
                    bytes >> 20,
                    max_memory >> 20
                )
            })
        };
        let edges = match search.edges(txns, &in_graph, extra, &over) {
            Ok(edges) => edges,
            Err(why) => {
                search.cut_short = Some(why);
                return search;
            }
        };
        let mut graph: DiGraph<(), u8, u32> = DiGraph::with_capacity(n, edges.len());
        for _ in 0..n {
            graph.add_node(());
        }
        for (a, b, bits) in &edges {
            graph.add_edge(NodeIndex::new(*a as usize), NodeIndex::new(*b as usize), *bits);
        }
        search.edges = edges.len();
        drop(edges);
        let components: Vec<Vec<NodeIndex<u32>>> = tarjan_scc(&graph).into_iter().filter(|c| c.len() > 1).collect();
        search.components = components.len();
        search.largest = components.iter().map(Vec::len).max().unwrap_or(0);
        let mut work = 0u64;
        for component in &components {
            if let Some(why) = budget.exceeded() {
                search.cut_short = Some(why);
                break;
            }
            let local = Local::new(&graph, component);
            // A cycle can only be found twice within one component.
            let first = found.cycles.len();
            for extra_pass in [0, extra] {
                if extra_pass == 0 || extra != 0 {
                    if let Err(why) = local.search(extra_pass, found, first, &mut work, budget) {
                        search.cut_short = Some(why);
                        break;
                    }
                }
            }
            search.exhaustive &= local.exhaustive.get();
            if search.cut_short.is_some() {
                break;
            }
        }
        search
    }

    /// Every edge, each pair once with all its relations.
    /// `over(edges)`: why that many edges would pass the memory budget, if they would.
    fn edges(
        &self,
        txns: &Txns,
        in_graph: &[bool],
        extra: u8,
        over: &dyn Fn(usize) -> Option<String>,
    ) -> Result<Vec<(u32, u32, u8)>, String> {
        if let Some(why) = over(0) {
            return Err(why);
        }
        let mut edges: Vec<(u32, u32, u8)> = Vec::new();
        let node = |w: Option<u32>| w.filter(|w| in_graph[*w as usize]);
        for (key, order) in self.orders.order.iter().enumerate() {
            for pair in order.windows(2) {
                let a = node(txns.writer.get(&(key as u32, pair[0])).copied());
                let b = node(txns.writer.get(&(key as u32, pair[1])).copied());
                if let (Some(a), Some(b)) = (a, b) {
                    if a != b {
                        edges.push((a, b, WW));
                    }
                }
            }
        }
        // Committed appends that no read shows come after every value read (a read that
        // missed a value before them could not be a prefix): after the key's last read value
        // (ww), and after every read of the whole order (rw). Their order among themselves is
        // unknown.
        let unread = self.orders.unread(txns);
        for (key, writers) in unread.iter().enumerate() {
            let last = self.orders.order[key].last().and_then(|v| node(txns.writer.get(&(key as u32, *v)).copied()));
            for &w in writers {
                if let Some(l) = last.filter(|l| *l != w) {
                    edges.push((l, w, WW));
                }
            }
        }
        for (id, t) in txns.txns.iter().enumerate() {
            let id = id as u32;
            if t.outcome != Outcome::Ok {
                continue;
            }
            for m in &t.mops {
                let Mop::Read { key, list: Some(l) } = m else { continue };
                if !self.orders.is_prefix(*key, l) {
                    continue; // reported as an incompatible order; it says nothing reliable
                }
                let n = external_len(txns, id, *key, l);
                if n > 0 {
                    if let Some(w) = node(txns.writer.get(&(*key, l[n - 1])).copied()) {
                        if w != id {
                            edges.push((w, id, WR));
                        }
                    }
                }
                if let Some(w) = node(self.orders.writer_at(txns, *key, n)) {
                    if w != id {
                        edges.push((id, w, RW));
                    }
                }
                if n == self.orders.order[*key as usize].len() {
                    for &w in &unread[*key as usize] {
                        if w != id {
                            edges.push((id, w, RW));
                        }
                    }
                }
            }
        }
        if let Some(why) = over(edges.len()) {
            return Err(why);
        }
        if extra & PROCESS != 0 {
            // From each process's last transaction that completed ok: one that ended
            // indeterminate may take effect after its process went on.
            let mut last: FxHashMap<u64, u32> = FxHashMap::default();
            for (id, t) in txns.txns.iter().enumerate() {
                if !in_graph[id] {
                    continue;
                }
                if let Some(&prev) = last.get(&t.process) {
                    edges.push((prev, id as u32, PROCESS));
                }
                if t.outcome == Outcome::Ok {
                    last.insert(t.process, id as u32);
                }
            }
        }
        if extra & REALTIME != 0 {
            realtime_edges(txns, in_graph, &mut edges, over)?;
        }
        if let Some(why) = over(edges.len()) {
            return Err(why);
        }
        edges.sort_unstable();
        edges.dedup_by(|later, kept| {
            if later.0 == kept.0 && later.1 == kept.1 {
                kept.2 |= later.2;
                true
            } else {
                false
            }
        });
        Ok(edges)
    }
}

/// T1 → T2 when T1 completed before T2 was invoked, reduced as Elle does: a completed
/// transaction stays on the frontier until one that began after it completes (which then
/// stands for it), so each transaction gets edges from the frontier only.
fn realtime_edges(
    txns: &Txns,
    in_graph: &[bool],
    edges: &mut Vec<(u32, u32, u8)>,
    over: &dyn Fn(usize) -> Option<String>,
) -> Result<(), String> {
    let mut events: Vec<(usize, bool, u32)> = Vec::new();
    for (id, t) in txns.txns.iter().enumerate() {
        if !in_graph[id] {
            continue;
        }
        events.push((t.invoke, false, id as u32));
        if let (Outcome::Ok, Some(c)) = (t.outcome, t.completion) {
            events.push((c, true, id as u32));
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<u32> = Vec::new();
    let mut before: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, (_, completes, id)) in events.into_iter().enumerate() {
        if i % 65_536 == 0 {
            if let Some(why) = over(edges.len()) {
                return Err(why);
            }
        }
        if completes {
            if let Some(done) = before.remove(&id) {
                frontier.retain(|f| !done.contains(f));
            }
            frontier.push(id);
        } else {
            for f in &frontier {
                edges.push((*f, id, REALTIME));
            }
            if txns.txns[id as usize].outcome == Outcome::Ok {
                before.insert(id, frontier.clone());
            }
        }
    }
    Ok(())
}

/// One strongly connected component, with its own small indices.
struct Local {
    /// Local index → transaction id.
    ids: Vec<u32>,
    /// Local adjacency: (to, relations).
    out: Vec<Vec<(u32, u8)>>,
    /// False once a search gave up trying further anti-dependencies.
    exhaustive: std::cell::Cell<bool>,
}

impl Local {
    fn new(graph: &DiGraph<(), u8, u32>, component: &[NodeIndex<u32>]) -> Local {
        let mut index: FxHashMap<u32, u32> = FxHashMap::default();
        for (i, n) in component.iter().enumerate() {
            index.insert(n.index() as u32, i as u32);
        }
        let mut out = vec![Vec::new(); component.len()];
        for (i, n) in component.iter().enumerate() {
            for e in graph.edges(*n) {
                use petgraph::visit::EdgeRef;
                if let Some(&j) = index.get(&(e.target().index() as u32)) {
                    out[i].push((j, *e.weight()));
                }
            }
        }
        Local { ids: component.iter().map(|n| n.index() as u32).collect(), out, exhaustive: std::cell::Cell::new(true) }
    }

    /// The components of the part of this one whose edges carry a relation in `mask`.
    fn parts(&self, mask: u8) -> Vec<Vec<u32>> {
        let mut g: DiGraph<(), (), u32> = DiGraph::with_capacity(self.ids.len(), 0);
        for _ in 0..self.ids.len() {
            g.add_node(());
        }
        for (i, out) in self.out.iter().enumerate() {
            for (j, bits) in out {
                if bits & mask != 0 {
                    g.add_edge(NodeIndex::new(i), NodeIndex::new(*j as usize), ());
                }
            }
        }
        tarjan_scc(&g).into_iter().filter(|c| c.len() > 1).map(|c| c.into_iter().map(|n| n.index() as u32).collect()).collect()
    }

    /// The searches, with data edges and `extra`; with `extra` only cycles that need it count.
    fn search(&self, extra: u8, found: &mut Found, first: usize, work: &mut u64, budget: &Budget<'_>) -> Result<(), String> {
        let mut bfs = Bfs::new(self.ids.len());
        let keep = |cycle: &[(u32, u8)]| extra == 0 || cycle.iter().any(|(_, b)| b & extra != 0);
        // G0, then G1c.
        for (mask, needs) in [(WW, WW), (WW | WR, WR)] {
            for part in self.parts(mask | extra) {
                let mut reported = 0;
                let in_part = membership(self.ids.len(), &part);
                'edges: for &a in &part {
                    for &(b, bits) in &self.out[a as usize] {
                        if reported >= PER_COMPONENT {
                            break 'edges;
                        }
                        if bits & needs == 0 || !in_part[b as usize] {
                            continue;
                        }
                        if let Some(cycle) = bfs.cycle(&self.out, a, b, needs, mask | extra, false, work) {
                            if keep(&cycle) && self.record(found, first, &cycle) {
                                reported += 1;
                            }
                        }
                        if needs == WW {
                            // One G0 per part: the shortest cycle through the first edge.
                            break 'edges;
                        }
                        check(work, budget)?;
                    }
                }
            }
        }
        // Cycles with anti-dependencies: first those with exactly one, then the others.
        for part in self.parts(WW | WR | RW | extra) {
            let in_part = membership(self.ids.len(), &part);
            let mut singles = 0;
            let mut others = 0;
            let mut attempts = 0;
            for &a in &part {
                for &(b, bits) in &self.out[a as usize] {
                    if bits & RW == 0 || !in_part[b as usize] || singles >= PER_COMPONENT {
                        continue;
                    }
                    attempts += 1;
                    if attempts > MAX_ATTEMPTS {
                        self.exhaustive.set(false);
                        continue;
                    }
                    if let Some(cycle) = bfs.cycle(&self.out, a, b, RW, WW | WR | extra, false, work) {
                        if keep(&cycle) && self.record(found, first, &cycle) {
                            singles += 1;
                        }
                    }
                    check(work, budget)?;
                }
            }
            if singles > 0 {
                continue;
            }
            for &a in &part {
                for &(b, bits) in &self.out[a as usize] {
                    if bits & RW == 0 || !in_part[b as usize] || others >= PER_COMPONENT {
                        continue;
                    }
                    attempts += 1;
                    if attempts > 2 * MAX_ATTEMPTS && others > 0 {
                        self.exhaustive.set(false);
                        continue;
                    }
                    // Non-adjacent first; failing that, any cycle through this anti-dependency.
                    let cycle = bfs
                        .cycle(&self.out, a, b, RW, WW | WR | RW | extra, true, work)
                        .or_else(|| bfs.cycle(&self.out, a, b, RW, WW | WR | RW | extra, false, work));
                    if let Some(cycle) = cycle {
                        if keep(&cycle) && self.record(found, first, &cycle) {
                            others += 1;
                        }
                    }
                    check(work, budget)?;
                }
            }
        }
        Ok(())
    }

    /// Files a cycle under its class; false when the same cycle was filed already (since
    /// `first`, where this component's cycles begin).
    fn record(&self, found: &mut Found, first: usize, cycle: &[(u32, u8)]) -> bool {
        let (class, via) = classify(cycle);
        let members: Vec<(u32, Relation)> = cycle.iter().map(|(i, bit)| (self.ids[*i as usize], relation(*bit))).collect();
        let same = |m: &Members| match m {
            Members::Cycle(c) => c.len() == members.len() && rotations_equal(c, &members),
            Members::Txns(..) => false,
        };
        if found.cycles[first..].iter().any(|(c, v, m)| *c == class && *v == via && same(m)) {
            return false;
        }
        found.cycles.push((class, via, Members::Cycle(members)));
        true
    }
}

fn rotations_equal(a: &[(u32, Relation)], b: &[(u32, Relation)]) -> bool {
    (0..a.len()).any(|shift| a.iter().cycle().skip(shift).take(a.len()).eq(b.iter()))
}

fn membership(n: usize, part: &[u32]) -> Vec<bool> {
    let mut m = vec![false; n];
    for &i in part {
        m[i as usize] = true;
    }
    m
}

fn check(work: &mut u64, budget: &Budget<'_>) -> Result<(), String> {
    if *work > MAX_WORK {
        return Err(format!("search budget: the cycle search took more than {MAX_WORK} steps"));
    }
    match budget.exceeded() {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// The class of a cycle by its edges (each `(node, relation to the next)`).
pub(crate) fn classify(cycle: &[(u32, u8)]) -> (Class, Via) {
    let rw = cycle.iter().filter(|(_, b)| *b == RW).count();
    let via = if cycle.iter().any(|(_, b)| *b == REALTIME) {
        Via::Realtime
    } else if cycle.iter().any(|(_, b)| *b == PROCESS) {
        Via::Process
    } else {
        Via::Data
    };
    let class = match rw {
        0 if cycle.iter().all(|(_, b)| *b != WR) => Class::G0,
        0 => Class::G1c,
        1 => Class::GSingle,
        _ => {
            let adjacent = (0..cycle.len()).any(|i| cycle[i].1 == RW && cycle[(i + 1) % cycle.len()].1 == RW);
            if adjacent {
                Class::G2Item
            } else {
                Class::GNonadjacent
            }
        }
    };
    (class, via)
}

/// Breadth-first search with reusable scratch space.
struct Bfs {
    /// Per state (node × last-edge-was-rw): the stamp of the search that reached it.
    seen: Vec<u32>,
    parent: Vec<(u32, u8)>,
    stamp: u32,
    queue: std::collections::VecDeque<u32>,
}

impl Bfs {
    fn new(n: usize) -> Bfs {
        Bfs { seen: vec![0; 2 * n], parent: vec![(0, 0); 2 * n], stamp: 0, queue: Default::default() }
    }

    /// The shortest cycle that starts with the edge `a → b` (taken as `first`, one relation
    /// of it) and returns from `b` to `a` along edges in `mask`, as `(node, relation to the
    /// next)` from `a`. With `nonadjacent`, no two anti-dependencies follow each other (the
    /// first edge included, around the cycle).
    #[allow(clippy::too_many_arguments)]
    fn cycle(
        &mut self,
        out: &[Vec<(u32, u8)>],
        a: u32,
        b: u32,
        first: u8,
        mask: u8,
        nonadjacent: bool,
        work: &mut u64,
    ) -> Option<Vec<(u32, u8)>> {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
        let state = |node: u32, after_rw: bool| node * 2 + u32::from(after_rw);
        let start = state(b, nonadjacent && first == RW);
        self.queue.clear();
        self.queue.push_back(start);
        self.seen[start as usize] = self.stamp;
        let mut end = None;
        while let Some(s) = self.queue.pop_front() {
            let (node, after_rw) = (s / 2, s % 2 == 1);
            for &(to, bits) in &out[node as usize] {
                *work += 1;
                let allowed = bits & mask;
                // Prefer a relation that is not an anti-dependency; after one, only those.
                let rel = if nonadjacent && after_rw { pick(allowed & !RW) } else { pick(allowed) };
                let Some(rel) = rel else { continue };
                // Closing the cycle: the last edge must not be an anti-dependency either.
                if nonadjacent && to == a && rel == RW && first == RW {
                    continue;
                }
                let next = state(to, nonadjacent && rel == RW);
                if self.seen[next as usize] != self.stamp {
                    self.seen[next as usize] = self.stamp;
                    self.parent[next as usize] = (s, rel);
                    if to == a {
                        end = Some(next);
                        self.queue.clear();
                        break;
                    }
                    self.queue.push_back(next);
                }
            }
            if end.is_some() {
                break;
            }
        }
        let end = end?;
        // Walk back from a to b: the path b → … → a, then the first edge a → b.
        let mut path: Vec<(u32, u8)> = Vec::new();
        let mut s = end;
        while s != start {
            let (prev, rel) = self.parent[s as usize];
            path.push((prev / 2, rel));
            s = prev;
        }
        path.reverse();
        let mut cycle = vec![(a, first)];
        cycle.extend(path);
        Some(cycle)
    }
}
