//! Exit codes, as Jepsen's: scripts and CI read them.

/// The history (or test) is valid.
pub const VALID: i32 = 0;
/// The history is invalid.
pub const INVALID: i32 = 1;
/// No verdict: a time limit or memory budget was reached.
pub const UNKNOWN: i32 = 2;
/// Bad arguments, or input that cannot be read.
pub const BAD_INPUT: i32 = 254;
/// faultline itself failed.
pub const INTERNAL: i32 = 255;
