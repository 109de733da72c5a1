//! Distributed locks: the `lock` workload (clients acquire, hold for a while, release; checked
//! with the mutex model and directly for two holders at once) and the `lock-set` workload (the
//! lock guards a set that lives in the harness, Jepsen's etcd 2020 test: each `add x` acquires,
//! reads the guarded set, sleeps 0–2 s, writes the set with `x`, releases; a final read of the
//! set; an acknowledged add that is lost means two holders overlapped).
//!
//! A target supports both by performing `acquire` and `release` (with whatever leases it
//! needs); the guarded set is the workload's, wrapped around the target's client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkers::models::ModelName;
use checkers::mutual_exclusion::MutualExclusion;
use checkers::set::SetChecker;
use checkers::{Checker, Linearizable};
use history::{Key, Rng};
use serde_json::{json, Value};

use crate::client::{BoxFuture, Client, Completion, Invocation};
use crate::generator::{BoxGen, Context, Next};
use crate::workload::Workload;

/// The longest a `lock` client holds the lock, and the longest a `lock-set` add sleeps while
/// holding it.
const LOCK_HOLD_MAX: Duration = Duration::from_millis(1000);
const GUARDED_SLEEP_MAX: Duration = Duration::from_millis(2000);

/// Acquire, hold 0–1 s, release, per client.
pub struct Lock;

/// Where one client is in its acquire / hold / release cycle.
#[derive(Clone, Copy)]
enum Phase {
    Idle,
    /// Acquire given; when the worker asks next (its acquire has completed) it holds `hold`.
    Acquiring {
        hold: Duration,
    },
    Holding {
        until: Duration,
    },
}

impl Workload for Lock {
    fn name(&self) -> &'static str {
        "lock"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["acquire", "release"]
    }

    fn generator(&self) -> BoxGen {
        let mut phases: Vec<Phase> = Vec::new();
        Box::new(move |ctx: &Context, rng: &mut Rng| {
            if phases.len() <= ctx.worker {
                phases.resize(ctx.worker + 1, Phase::Idle);
            }
            match phases[ctx.worker] {
                Phase::Idle => {
                    let hold = Duration::from_millis(rng.below(LOCK_HOLD_MAX.as_millis() as u64 + 1));
                    phases[ctx.worker] = Phase::Acquiring { hold };
                    Next::Op(Invocation { f: "acquire".into(), key: None, value: Value::Null })
                }
                Phase::Acquiring { hold } => {
                    phases[ctx.worker] = Phase::Holding { until: ctx.elapsed + hold };
                    Next::Wait(hold)
                }
                // Whether or not the acquire succeeded: a client that does not hold the lock
                // answers a release with `fail`.
                Phase::Holding { until } if ctx.elapsed < until => Next::Wait(until - ctx.elapsed),
                Phase::Holding { .. } => {
                    phases[ctx.worker] = Phase::Idle;
                    Next::Op(Invocation { f: "release".into(), key: None, value: Value::Null })
                }
            }
        })
    }

    fn final_generator(&self, _keys: &[Key]) -> Option<BoxGen> {
        None
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(Linearizable::new(ModelName::Mutex)), Box::new(MutualExclusion), Box::new(checkers::stats::Stats)]
    }

    fn op_time(&self, request_timeout: Duration) -> Duration {
        // An acquire may be two requests (a lease, then the lock).
        request_timeout * 2 + Duration::from_secs(1)
    }
}

/// Unique adds to a set guarded by the target's lock, then a final read.
pub struct LockSet {
    guarded: Arc<Mutex<Vec<Value>>>,
    sleep_max: Duration,
}

impl LockSet {
    /// A lock-set workload with an empty guarded set, sleeping 0–2 s under the lock.
    pub fn new() -> LockSet {
        LockSet::sleeping_up_to(GUARDED_SLEEP_MAX)
    }

    /// The same, sleeping up to `sleep_max` under the lock.
    pub fn sleeping_up_to(sleep_max: Duration) -> LockSet {
        LockSet { guarded: Arc::new(Mutex::new(Vec::new())), sleep_max }
    }
}

impl Default for LockSet {
    fn default() -> Self {
        LockSet::new()
    }
}

impl Workload for LockSet {
    fn name(&self) -> &'static str {
        "lock-set"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["acquire", "release"]
    }

    fn generator(&self) -> BoxGen {
        crate::set::Set.generator()
    }

    fn final_generator(&self, keys: &[Key]) -> Option<BoxGen> {
        crate::set::Set.final_generator(keys)
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(SetChecker), Box::new(checkers::stats::Stats)]
    }

    fn wrap_client(&self, lock: Box<dyn Client>) -> Box<dyn Client> {
        Box::new(GuardedSetClient { lock, guarded: self.guarded.clone(), sleep_max: self.sleep_max })
    }

    fn op_time(&self, request_timeout: Duration) -> Duration {
        // Acquiring (a lease, then the lock), the sleep, releasing (unlock, then revoke).
        request_timeout * 4 + self.sleep_max + Duration::from_secs(1)
    }
}

/// `add x` as a critical section over the harness's set, `read` as a plain read of it.
struct GuardedSetClient {
    lock: Box<dyn Client>,
    guarded: Arc<Mutex<Vec<Value>>>,
    sleep_max: Duration,
}

impl GuardedSetClient {
    fn snapshot(&self) -> Vec<Value> {
        self.guarded.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn add(&mut self, element: &Value) -> Completion {
        let acquire = Invocation { f: "acquire".into(), key: None, value: Value::Null };
        match self.lock.invoke(&acquire).await {
            Completion::Ok(_) => {}
            // Without the lock the set is never written: the add certainly did not happen.
            Completion::Fail(why) | Completion::Info(why) => return Completion::Fail(format!("not acquired: {why}")),
        }
        let mut set = self.snapshot();
        // The sleep (at least 1 ms: others get to run) is drawn from the element, so that a
        // seed's run sleeps the same.
        let sleep = 1 + Rng::new(element.as_u64().unwrap_or(0) ^ 0x5eed).below(self.sleep_max.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(sleep)).await;
        set.push(element.clone());
        *self.guarded.lock().unwrap_or_else(|p| p.into_inner()) = set;
        // The write happened: the add is done whatever the release comes to.
        let release = Invocation { f: "release".into(), key: None, value: Value::Null };
        let _ = self.lock.invoke(&release).await;
        Completion::Ok(element.clone())
    }
}

impl Client for GuardedSetClient {
    fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
        Box::pin(async move {
            match op.f.as_str() {
                "add" => self.add(&op.value).await,
                "read" => Completion::Ok(json!(self.snapshot())),
                other => Completion::Fail(format!("the lock-set workload has no operation `{other}`")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock that is always granted, and counts.
    struct Granting(Arc<Mutex<Vec<String>>>);

    impl Client for Granting {
        fn invoke<'a>(&'a mut self, op: &'a Invocation) -> BoxFuture<'a, Completion> {
            self.0.lock().unwrap().push(op.f.clone());
            Box::pin(async { Completion::Ok(Value::Null) })
        }
    }

    #[test]
    fn the_lock_generator_acquires_holds_and_releases_per_client() {
        let mut gen = Lock.generator();
        let mut rng = Rng::new(1);
        let at = |ms: u64, worker: usize| Context { elapsed: Duration::from_millis(ms), worker };
        let f = |n: Next| match n {
            Next::Op(op) => op.f,
            Next::Wait(_) => "wait".into(),
            Next::Done => "done".into(),
        };
        assert_eq!(f(gen.next(&at(0, 0), &mut rng)), "acquire");
        assert_eq!(f(gen.next(&at(0, 1), &mut rng)), "acquire");
        // The hold starts when the worker is back, its acquire done (after 3 s in a queue).
        assert_eq!(f(gen.next(&at(3000, 0), &mut rng)), "wait");
        assert_eq!(f(gen.next(&at(3001, 0), &mut rng)), "wait");
        assert_eq!(f(gen.next(&at(4001, 0), &mut rng)), "release");
        assert_eq!(f(gen.next(&at(4002, 0), &mut rng)), "acquire");
        assert_eq!(f(gen.next(&at(4003, 1), &mut rng)), "wait");
        assert_eq!(f(gen.next(&at(5004, 1), &mut rng)), "release");
    }

    #[tokio::test]
    async fn lock_set_adds_under_the_lock_and_reads_the_guarded_set() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let workload = LockSet::sleeping_up_to(Duration::from_millis(50));
        let mut a = workload.wrap_client(Box::new(Granting(calls.clone())));
        let mut b = workload.wrap_client(Box::new(Granting(calls.clone())));
        let add = |x: u64| Invocation { f: "add".into(), key: None, value: json!(x) };
        assert_eq!(a.invoke(&add(1)).await, Completion::Ok(json!(1)));
        assert_eq!(b.invoke(&add(2)).await, Completion::Ok(json!(2)));
        let read = Invocation { f: "read".into(), key: None, value: Value::Null };
        assert_eq!(a.invoke(&read).await, Completion::Ok(json!([1, 2])));
        assert_eq!(*calls.lock().unwrap(), ["acquire", "release", "acquire", "release"]);
        // Two holders at once (a lock that grants everyone) lose an add: the point of the test.
        let (x, y) = (add(3), add(4));
        let (ra, rb) = tokio::join!(a.invoke(&x), b.invoke(&y));
        assert_eq!((ra, rb), (Completion::Ok(json!(3)), Completion::Ok(json!(4))));
        let Completion::Ok(Value::Array(items)) = a.invoke(&read).await else { panic!() };
        assert_eq!(items.len(), 3, "one of 3 and 4 was overwritten: {items:?}");
    }
}
