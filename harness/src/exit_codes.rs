//! Exit codes, as Jepsen's: scripts and CI read them.

use history::Validity;

/// The history (or test) is valid.
pub const VALID: i32 = 0;
/// The history is invalid.
pub const INVALID: i32 = 1;
/// No verdict: a time limit or memory budget was reached, or the run was interrupted.
pub const UNKNOWN: i32 = 2;
/// Bad arguments, input that cannot be read, or a machine that lacks something.
pub const BAD_INPUT: i32 = 254;
/// faultline itself failed, or its results could not be stored.
pub const INTERNAL: i32 = 255;

/// The exit code of a verdict.
pub fn of(valid: Validity) -> i32 {
    match valid {
        Validity::Valid => VALID,
        Validity::Invalid => INVALID,
        Validity::Unknown => UNKNOWN,
    }
}
