//! Systems under test that ship with faultline, so that `faultline test` needs nothing but
//! Rust. Today: [`kv`], a replicated key-value node (CASPaxos, durable) with bugs that can be
//! switched on to prove the checker catches them.

pub mod kv;
