//! The register workload: reads, writes and compare-and-sets of small integers on rotating
//! keys, checked with the cas-register model per key.

use serde_json::{json, Value};

use crate::client::Invocation;
use crate::generator::{BoxGen, Context, Next};
use checkers::rng::Rng;

/// Values written are drawn from 0..VALUES: few enough that reads and cas often collide.
const VALUES: u64 = 5;

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
