//! The counter workload (Jepsen's `counter`): increments by small random amounts (1–5) mixed
//! with reads, on one counter, then a final read. Checked with the counter checker: every read
//! lies between the increments that surely happened and those that may have. (The history can
//! also be checked for linearizability: `faultline check history.jsonl --model counter`.)

use checkers::counter::CounterChecker;
use checkers::Checker;
use history::{Key, Rng};
use serde_json::{json, Value};

use crate::client::Invocation;
use crate::generator::{BoxGen, Context, Next};
use crate::workload::Workload;

/// Increments and reads, half each.
pub struct Counter;

impl Workload for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["add", "read"]
    }

    fn generator(&self) -> BoxGen {
        Box::new(|_: &Context, rng: &mut Rng| {
            let op = if rng.below(2) == 0 {
                Invocation { f: "add".into(), key: None, value: json!(1 + rng.below(5)) }
            } else {
                Invocation { f: "read".into(), key: None, value: Value::Null }
            };
            Next::Op(op)
        })
    }

    fn final_generator(&self, _keys: &[Key]) -> Option<BoxGen> {
        Some(crate::generator::one_final_read())
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(CounterChecker), Box::new(checkers::stats::Stats)]
    }
}
