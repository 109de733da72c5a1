//! The `faultline` command and the test runner. Ties the other crates together: a test is
//! [`run::run`] (a configuration in, a record out, events on the way), and each subcommand is
//! a thin `*_cmd` module around it or around the checkers and the report.

#![deny(missing_docs)]

pub mod campaign;
pub mod campaign_cmd;
pub mod check_cmd;
pub mod clean_cmd;
pub mod cluster;
pub mod config;
pub mod console;
pub mod exit_codes;
pub mod preflight;
pub mod report_cmd;
pub mod run;
pub mod schedule;
pub mod serve_cmd;
pub mod signals;
pub mod spec_cmd;
pub mod test_cmd;
pub mod workers;

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
