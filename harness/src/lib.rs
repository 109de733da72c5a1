//! The `faultline` command: the test runner and the subcommands. Ties the other crates
//! together; `main.rs` only parses arguments.

pub mod check_cmd;
pub mod clean_cmd;
pub mod cluster;
pub mod db;
pub mod exit_codes;
pub mod faults;
pub mod report_cmd;
pub mod runner;
pub mod schedule;
pub mod serve_cmd;
pub mod targets;
pub mod test_cmd;

/// An error and the exit code it maps to.
pub struct Failure {
    /// What went wrong, with its context.
    pub error: anyhow::Error,
    /// The exit code (see [`exit_codes`]).
    pub code: i32,
}

impl Failure {
    /// Bad arguments or unreadable input.
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Failure {
        Failure { error: error.into(), code: exit_codes::BAD_INPUT }
    }
}
