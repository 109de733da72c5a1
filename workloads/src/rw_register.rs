//! The rw-register workload: reads and blind writes (no compare-and-set) on rotating keys,
//! checked with the plain register model. For systems without a compare-and-set, and a cheaper
//! check than the cas-register's.

use checkers::models::ModelName;
use checkers::{Checker, Linearizable};
use history::{Key, Rng};
use serde_json::{json, Value};

use crate::client::Invocation;
use crate::generator::{rotate_keys, BoxGen, Context, Next};
use crate::register::{read_each, VALUES};
use crate::workload::Workload;

/// Read / write on keys that rotate every `ops_per_key` operations.
pub struct RwRegister {
    /// Operations per key before the next key starts.
    pub ops_per_key: u64,
}

impl Workload for RwRegister {
    fn name(&self) -> &'static str {
        "rw-register"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["read", "write"]
    }

    fn generator(&self) -> BoxGen {
        let ops: BoxGen = Box::new(|_: &Context, rng: &mut Rng| {
            let (f, value) = if rng.below(2) == 0 { ("read", Value::Null) } else { ("write", json!(rng.below(VALUES))) };
            Next::Op(Invocation { f: f.to_string(), key: None, value })
        });
        rotate_keys(self.ops_per_key, ops)
    }

    fn final_generator(&self, keys: &[Key]) -> Option<BoxGen> {
        Some(read_each(keys))
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(Linearizable::new(ModelName::Register)), Box::new(checkers::stats::Stats)]
    }
}
