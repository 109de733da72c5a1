//! The [`Workload`] trait (Jepsen's workload maps): what the clients do, what they do once the
//! faults are healed, and how the history is checked, as one value.

use std::time::Duration;

use checkers::Checker;
use history::Key;

use crate::client::Client;
use crate::generator::BoxGen;

/// A workload. A new one is one file with an implementation of this trait, and one variant in
/// [`crate::WorkloadKind`].
pub trait Workload: Send + Sync {
    /// Its name (`--workload`): a target's client may map the same operation differently per
    /// workload (`add` to a set, or to a counter).
    fn name(&self) -> &'static str;

    /// The operations (`f`s) it needs from a target's client: a target must support every one.
    fn operations(&self) -> &'static [&'static str];

    /// The main phase: the operations, unpaced and without end (the runner paces them at
    /// `--rate` and stops at `--time-limit`). Every random choice comes from the generator's
    /// seeded [`history::Rng`], so a seed gives one sequence of operations.
    fn generator(&self) -> BoxGen;

    /// After every fault is healed: the operations that let the checkers see the end state
    /// (Jepsen's final generator), given the keys the main phase used, in first-use order.
    fn final_generator(&self, keys: &[Key]) -> Option<BoxGen>;

    /// The checkers of its history (the runner adds availability).
    fn checkers(&self) -> Vec<Box<dyn Checker>>;

    /// The client its workers use, around the target's: most workloads use the target's as it
    /// is; `lock-set` turns a lock into a critical section over its own set.
    fn wrap_client(&self, client: Box<dyn Client>) -> Box<dyn Client> {
        client
    }

    /// How long one operation may take in all before it is recorded as indeterminate, given
    /// the timeout of one request (an operation of several requests, or one that sleeps, takes
    /// longer).
    fn op_time(&self, request_timeout: Duration) -> Duration {
        request_timeout + Duration::from_secs(1)
    }
}
