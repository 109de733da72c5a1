//! `faultline test`: the command-line wrapper around [`crate::run::run`]: the console prints
//! the run's events, and the record's verdict becomes the exit code.

use std::sync::Arc;

use history::Validity;

use crate::config::TestConfig;
use crate::console::Console;
use crate::exit_codes;
use crate::run::{run as run_test, RunError};
use crate::signals::Interrupt;
use crate::Failure;

/// Runs one test as configured, printing as it goes; returns the exit code.
pub fn run(config: TestConfig, interrupt: &Arc<Interrupt>) -> Result<i32, Failure> {
    let mut console = Console::new();
    let record = match run_test(&config, &mut console, interrupt) {
        Ok(record) => record,
        Err(RunError::Config(e)) => return Err(Failure::bad_input(e)),
        Err(RunError::Environment(message)) => return Err(Failure::bad_input(anyhow::anyhow!(message))),
        // Not faultline's failure: the target or the machine (254, as a bad environment).
        Err(RunError::ClusterStart(e)) => return Err(Failure::bad_input(e)),
        Err(RunError::Interrupted(signal)) => {
            eprintln!("interrupted by {signal} before the workload began: no verdict");
            return Ok(exit_codes::UNKNOWN);
        }
        Err(RunError::Internal(e)) => return Err(Failure { error: e, code: exit_codes::INTERNAL }),
    };
    if record.history_incomplete.is_some() && record.valid != Validity::Invalid {
        eprintln!(
            "error: the stored history is incomplete: exit {} although the verdict is {}",
            exit_codes::INTERNAL,
            record.valid.as_str()
        );
        return Ok(exit_codes::INTERNAL);
    }
    Ok(exit_codes::of(record.valid))
}
