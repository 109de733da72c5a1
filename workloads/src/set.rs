//! The set workload (Jepsen's `set`): unique elements added to one set, then, after the faults
//! are healed, one read of the whole set. Checked with the set checker: every acknowledged add
//! must be in the final read.

use checkers::set::SetChecker;
use checkers::Checker;
use history::{Key, Rng};
use serde_json::json;

use crate::client::Invocation;
use crate::generator::{BoxGen, Context, Next};
use crate::workload::Workload;

/// Unique adds (0, 1, 2, …), then one read.
pub struct Set;

impl Workload for Set {
    fn name(&self) -> &'static str {
        "set"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["add", "read"]
    }

    fn generator(&self) -> BoxGen {
        let mut next = 0u64;
        Box::new(move |_: &Context, _: &mut Rng| {
            next += 1;
            Next::Op(Invocation { f: "add".into(), key: None, value: json!(next - 1) })
        })
    }

    fn final_generator(&self, _keys: &[Key]) -> Option<BoxGen> {
        Some(crate::generator::one_final_read())
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(SetChecker), Box::new(checkers::stats::Stats)]
    }
}
