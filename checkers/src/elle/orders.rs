//! Each key's version order, from its longest read, and the anomalies that need no cycle:
//! reads that are not prefixes of that order, aborted and intermediate reads, values read twice
//! or never appended, and transactions that disagree with themselves.

use history::Outcome;
use rustc_hash::FxHashMap;

use super::txns::{Mop, Txns};
use super::{Class, Found, Members, Via};

/// The version order of every key, and where each value sits in it.
pub(crate) struct Orders {
    /// Per key: the values in the order they were appended, as the longest read shows.
    pub order: Vec<Vec<i64>>,
    /// (key, value) → its position in the key's order.
    pub pos: FxHashMap<(u32, i64), u32>,
}

impl Orders {
    /// The transaction that appended the value right after the first `n` of `key`'s order.
    pub fn writer_at(&self, txns: &Txns, key: u32, n: usize) -> Option<u32> {
        let v = *self.order[key as usize].get(n)?;
        txns.writer.get(&(key, v)).copied()
    }

    /// Per key: the transactions that completed ok with an append to it that no read shows
    /// (each once).
    pub fn unread(&self, txns: &Txns) -> Vec<Vec<u32>> {
        let mut unread: Vec<Vec<u32>> = vec![Vec::new(); self.order.len()];
        for (id, t) in txns.txns.iter().enumerate() {
            if t.outcome != Outcome::Ok {
                continue;
            }
            for m in &t.mops {
                if let Mop::Append { key, value } = m {
                    let list = &mut unread[*key as usize];
                    if !self.pos.contains_key(&(*key, *value)) && list.last() != Some(&(id as u32)) {
                        list.push(id as u32);
                    }
                }
            }
        }
        unread
    }

    /// Whether `list` is a prefix of `key`'s order.
    pub fn is_prefix(&self, key: u32, list: &[i64]) -> bool {
        self.order[key as usize].starts_with(list)
    }
}

/// How many values of a read `txn` saw from others: the read without `txn`'s own appends at
/// its end.
pub(crate) fn external_len(txns: &Txns, txn: u32, key: u32, list: &[i64]) -> usize {
    let mut n = list.len();
    while n > 0 && txns.writer.get(&(key, list[n - 1])) == Some(&txn) {
        n -= 1;
    }
    n
}

/// The version orders, and every anomaly found without a graph.
pub(crate) fn infer(txns: &Txns, found: &mut Found) -> Orders {
    let mut order: Vec<Vec<i64>> = vec![Vec::new(); txns.keys.len()];
    // The longest read of each key, and who read it.
    let mut longest: Vec<Option<u32>> = vec![None; txns.keys.len()];
    for (id, t) in txns.txns.iter().enumerate() {
        for m in &t.mops {
            if let Mop::Read { key, list: Some(l) } = m {
                if l.len() > order[*key as usize].len() || longest[*key as usize].is_none() {
                    order[*key as usize] = l.clone();
                    longest[*key as usize] = Some(id as u32);
                }
            }
        }
    }
    let mut pos = FxHashMap::default();
    for (key, o) in order.iter().enumerate() {
        for (i, v) in o.iter().enumerate() {
            pos.entry((key as u32, *v)).or_insert(i as u32);
        }
    }
    let orders = Orders { order, pos };
    let mut incompatible = vec![false; txns.keys.len()];
    for (id, t) in txns.txns.iter().enumerate() {
        let id = id as u32;
        for m in &t.mops {
            let Mop::Read { key, list: Some(l) } = m else { continue };
            let k = *key as usize;
            if !orders.is_prefix(*key, l) && !incompatible[k] {
                incompatible[k] = true;
                let other = longest[k].unwrap_or(id);
                found.others.push((Class::IncompatibleOrder, Via::Data, Members::Txns(vec![id, other], *key)));
            }
            let mut seen = rustc_hash::FxHashSet::default();
            if l.iter().any(|v| !seen.insert(*v)) {
                found.others.push((Class::DuplicateElements, Via::Data, Members::Txns(vec![id], *key)));
            }
            for v in l {
                match txns.writer.get(&(*key, *v)) {
                    None => {
                        found.others.push((Class::GarbageRead, Via::Data, Members::Txns(vec![id], *key)));
                        break;
                    }
                    Some(&w) if txns.txns[w as usize].outcome == Outcome::Fail => {
                        found.others.push((Class::G1a, Via::Data, Members::Txns(vec![id, w], *key)));
                        break;
                    }
                    _ => {}
                }
            }
            // Intermediate read: the last value seen from another transaction is not that
            // transaction's last append to the key.
            let n = external_len(txns, id, *key, l);
            if n > 0 {
                if let Some(&w) = txns.writer.get(&(*key, l[n - 1])) {
                    let last_of_w = txns.txns[w as usize].mops.iter().rev().find_map(|m| match m {
                        Mop::Append { key: k2, value } if k2 == key => Some(*value),
                        _ => None,
                    });
                    if w != id && last_of_w != Some(l[n - 1]) && txns.txns[w as usize].outcome != Outcome::Fail {
                        found.others.push((Class::G1b, Via::Data, Members::Txns(vec![id, w], *key)));
                    }
                }
            }
        }
        if let Some(key) = internal_inconsistency(&t.mops) {
            found.others.push((Class::Internal, Via::Data, Members::Txns(vec![id], key)));
        }
    }
    orders
}

/// The key of the first read of a transaction that disagrees with what the transaction read
/// and appended before it: after a read of `l` and appends `a…`, a read must be `l ++ a…`;
/// after appends alone it must end with them.
pub(crate) fn internal_inconsistency(mops: &[Mop]) -> Option<u32> {
    // Per key: (a read seen, what the list must be or end with).
    let mut known: FxHashMap<u32, (bool, Vec<i64>)> = FxHashMap::default();
    for m in mops {
        match m {
            Mop::Append { key, value } => known.entry(*key).or_insert((false, Vec::new())).1.push(*value),
            Mop::Read { key, list: Some(l) } => {
                if let Some((exact, expected)) = known.get(key) {
                    let ok = if *exact { l == expected } else { l.ends_with(expected) };
                    if !ok {
                        return Some(*key);
                    }
                }
                known.insert(*key, (true, l.clone()));
            }
            Mop::Read { list: None, .. } => {}
        }
    }
    None
}
