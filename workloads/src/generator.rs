//! Generators: what the next operation is, for a free worker, given the time. They compose
//! (mix, limit, time limit, stagger, phases, rotating independent keys) and draw every random
//! choice from the one seeded [`Rng`] they are given, so the same seed gives the same sequence
//! of operations.

use std::time::Duration;

use history::Key;
use history::Rng;

use crate::client::Invocation;

/// What a generator knows when asked.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    /// Time since the test started.
    pub elapsed: Duration,
    /// The worker asking.
    pub worker: usize,
}

/// A generator's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Perform this.
    Op(Invocation),
    /// Nothing yet; ask again after this long.
    Wait(Duration),
    /// Nothing more, ever.
    Done,
}

/// A source of operations.
pub trait Generator: Send {
    /// The next operation for a free worker.
    fn next(&mut self, ctx: &Context, rng: &mut Rng) -> Next;
}

impl<F: FnMut(&Context, &mut Rng) -> Next + Send> Generator for F {
    fn next(&mut self, ctx: &Context, rng: &mut Rng) -> Next {
        self(ctx, rng)
    }
}

/// A boxed generator.
pub type BoxGen = Box<dyn Generator>;

/// Picks one of `gens` at random for each operation; finished ones drop out.
pub fn mix(mut gens: Vec<BoxGen>) -> BoxGen {
    Box::new(move |ctx: &Context, rng: &mut Rng| loop {
        if gens.is_empty() {
            return Next::Done;
        }
        let i = rng.below(gens.len() as u64) as usize;
        match gens[i].next(ctx, rng) {
            Next::Done => {
                gens.remove(i);
            }
            other => return other,
        }
    })
}

/// One read of the whole value (no key), then done: the final generator of the workloads
/// whose end state is one value (set, counter, bank).
pub fn one_final_read() -> BoxGen {
    let mut done = false;
    Box::new(move |_: &Context, _: &mut Rng| {
        if std::mem::replace(&mut done, true) {
            return Next::Done;
        }
        Next::Op(Invocation { f: "read".into(), key: None, value: serde_json::Value::Null })
    })
}

/// At most `n` operations.
pub fn limit(n: u64, mut gen: BoxGen) -> BoxGen {
    let mut given = 0;
    Box::new(move |ctx: &Context, rng: &mut Rng| {
        if given >= n {
            return Next::Done;
        }
        let next = gen.next(ctx, rng);
        given += u64::from(matches!(next, Next::Op(_)));
        next
    })
}

/// Done once `limit` has passed since the test started.
pub fn time_limit(limit: Duration, mut gen: BoxGen) -> BoxGen {
    Box::new(move |ctx: &Context, rng: &mut Rng| if ctx.elapsed >= limit { Next::Done } else { gen.next(ctx, rng) })
}

/// About `rate` operations per second over all workers, with random gaps (uniform, mean
/// 1/rate), as Jepsen's `stagger`.
pub fn stagger(rate: f64, mut gen: BoxGen) -> BoxGen {
    let mean = Duration::from_secs_f64(1.0 / rate.max(1e-3));
    let mut next_at = Duration::ZERO;
    Box::new(move |ctx: &Context, rng: &mut Rng| {
        if ctx.elapsed < next_at {
            return Next::Wait(next_at - ctx.elapsed);
        }
        let next = gen.next(ctx, rng);
        if matches!(next, Next::Op(_)) {
            let gap = mean.mul_f64(2.0 * rng.below(1_000_000) as f64 / 1_000_000.0);
            next_at = next_at.max(ctx.elapsed.saturating_sub(mean * 4)) + gap;
        }
        next
    })
}

/// Runs each generator until it is done, then the next.
pub fn phases(mut gens: Vec<BoxGen>) -> BoxGen {
    gens.reverse();
    Box::new(move |ctx: &Context, rng: &mut Rng| loop {
        let Some(current) = gens.last_mut() else { return Next::Done };
        match current.next(ctx, rng) {
            Next::Done => {
                gens.pop();
            }
            other => return other,
        }
    })
}

/// Jepsen's independent keys, rotating: every operation goes to the current key; after
/// `per_key` operations the next key starts (0, 1, 2, …). Bounding the ops per key keeps every
/// key's history small enough to check, while all workers contend on the same key.
pub fn rotate_keys(per_key: u64, mut gen: BoxGen) -> BoxGen {
    let per_key = per_key.max(1);
    let mut given = 0u64;
    Box::new(move |ctx: &Context, rng: &mut Rng| match gen.next(ctx, rng) {
        Next::Op(mut op) => {
            op.key = Some(Key::Int((given / per_key) as i64));
            given += 1;
            Next::Op(op)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn constant(f: &'static str) -> BoxGen {
        Box::new(move |_: &Context, _: &mut Rng| Next::Op(Invocation { f: f.into(), key: None, value: json!(null) }))
    }

    fn at(secs: f64) -> Context {
        Context { elapsed: Duration::from_secs_f64(secs), worker: 0 }
    }

    fn ops(gen: &mut BoxGen, n: usize, rng: &mut Rng) -> Vec<Next> {
        (0..n).map(|_| gen.next(&at(0.0), rng)).collect()
    }

    #[test]
    fn limit_and_phases() {
        let mut rng = Rng::new(1);
        let mut g = phases(vec![limit(2, constant("a")), limit(1, constant("b"))]);
        let fs: Vec<String> = ops(&mut g, 4, &mut rng)
            .into_iter()
            .map(|n| match n {
                Next::Op(op) => op.f,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(fs, vec!["a", "a", "b", "Done"]);
    }

    #[test]
    fn time_limit_ends_the_stream() {
        let mut rng = Rng::new(1);
        let mut g = time_limit(Duration::from_secs(1), constant("a"));
        assert!(matches!(g.next(&at(0.5), &mut rng), Next::Op(_)));
        assert_eq!(g.next(&at(1.0), &mut rng), Next::Done);
    }

    #[test]
    fn mix_draws_from_every_generator_and_is_seeded() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            let mut g = mix(vec![constant("a"), constant("b"), constant("c")]);
            ops(&mut g, 60, &mut rng)
        };
        let first = draw(7);
        assert_eq!(first, draw(7), "same seed, same sequence");
        assert_ne!(first, draw(8));
        for f in ["a", "b", "c"] {
            assert!(first.iter().any(|n| matches!(n, Next::Op(op) if op.f == f)));
        }
    }

    #[test]
    fn stagger_spaces_operations_at_the_rate() {
        let mut rng = Rng::new(3);
        let mut g = stagger(100.0, constant("a"));
        // Simulate a clock: each Wait is slept through. 100/s for 10 s is about 1000 ops.
        let mut t = 0.0;
        let mut count = 0;
        while t < 10.0 {
            match g.next(&at(t), &mut rng) {
                Next::Op(_) => count += 1,
                Next::Wait(d) => t += d.as_secs_f64(),
                Next::Done => unreachable!(),
            }
        }
        assert!((900..=1100).contains(&count), "{count} ops in 10 s at 100/s");
    }

    #[test]
    fn keys_rotate_after_a_bounded_number_of_ops() {
        let mut rng = Rng::new(1);
        let mut g = rotate_keys(3, constant("a"));
        let keys: Vec<Option<Key>> = ops(&mut g, 7, &mut rng)
            .into_iter()
            .map(|n| match n {
                Next::Op(op) => op.key,
                _ => None,
            })
            .collect();
        let k = |i| Some(Key::Int(i));
        assert_eq!(keys, vec![k(0), k(0), k(0), k(1), k(1), k(1), k(2)]);
    }
}
