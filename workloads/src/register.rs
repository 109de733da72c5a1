//! The register workload: reads, writes and compare-and-sets of small integers on rotating
//! keys, checked with the cas-register model per key, then one read of every key.

use checkers::models::ModelName;
use checkers::{Checker, Linearizable};
use history::{Key, Rng};
use serde_json::{json, Value};

use crate::client::Invocation;
use crate::generator::{rotate_keys, BoxGen, Context, Next};
use crate::workload::Workload;

/// Values written are drawn from 0..VALUES: few enough that reads and cas often collide.
pub(crate) const VALUES: u64 = 5;

/// Read / write / cas on keys that rotate every `ops_per_key` operations.
pub struct Register {
    /// Operations per key before the next key starts.
    pub ops_per_key: u64,
}

impl Workload for Register {
    fn name(&self) -> &'static str {
        "register"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["read", "write", "cas"]
    }

    fn generator(&self) -> BoxGen {
        rotate_keys(self.ops_per_key, operations())
    }

    fn final_generator(&self, keys: &[Key]) -> Option<BoxGen> {
        Some(read_each(keys))
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(Linearizable::new(ModelName::CasRegister)), Box::new(checkers::stats::Stats)]
    }
}

/// An endless mix of read, write and cas (one third each).
pub fn operations() -> BoxGen {
    Box::new(|_: &Context, rng: &mut Rng| {
        let (f, value) = match rng.below(3) {
            0 => ("read", Value::Null),
            1 => ("write", json!(rng.below(VALUES))),
            _ => ("cas", json!([rng.below(VALUES), rng.below(VALUES)])),
        };
        Next::Op(Invocation { f: f.to_string(), key: None, value })
    })
}

/// One read of each key, then done.
pub fn read_each(keys: &[Key]) -> BoxGen {
    // Owned: the generator outlives the caller's slice.
    let owned: Vec<Key> = keys.to_owned();
    let mut keys = owned.into_iter();
    Box::new(move |_: &Context, _: &mut Rng| match keys.next() {
        Some(key) => Next::Op(Invocation { f: "read".into(), key: Some(key), value: Value::Null }),
        None => Next::Done,
    })
}
