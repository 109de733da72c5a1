//! `faultline test`: the command-line wrapper around [`crate::run::run`]: the console prints
//! the run's events, and the record's verdict becomes the exit code. `--replay DIR` runs a
//! stored run again: its configuration and seed from `test.json`, and its target's spec file
//! from the copy kept in the run directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use history::Validity;
use results::TestRecord;

use crate::config::TestConfig;
use crate::console::Console;
use crate::exit_codes;
use crate::run::{run as run_test, RunError};
use crate::signals::Interrupt;
use crate::Failure;

/// `faultline test`'s arguments: a configuration, or a run to replay.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    config: TestConfig,
    /// Run a stored run again (a run directory: store/NAME/TIMESTAMP): the same configuration,
    /// seed, target spec and so the same operations and fault schedule; into the same store.
    #[arg(long, value_name = "RUN_DIR", exclusive = true)]
    replay: Option<PathBuf>,
}

impl TestArgs {
    /// The configuration to run: the flags, or the replayed run's.
    pub fn config(self) -> anyhow::Result<TestConfig> {
        match self.replay {
            None => Ok(self.config),
            Some(dir) => replay_config(&dir),
        }
    }
}

/// The configuration of a stored run, made to repeat it from anywhere: its seed fixed, its
/// spec file the run's own copy, its store the one the run directory is in.
pub fn replay_config(dir: &Path) -> anyhow::Result<TestConfig> {
    let path = dir.join("test.json");
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("--replay: cannot read {}: {e}", path.display()))?;
    let record: TestRecord<TestConfig> =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("--replay: {} is not a faultline test record: {e}", path.display()))?;
    let mut config = record.config;
    config.seed = Some(record.seed);
    if config.target_spec.is_some() {
        let copy = dir.join(targets::spec::SPEC_COPY);
        if !copy.is_file() {
            anyhow::bail!("--replay: the run used a target spec, but its copy {} is missing", copy.display());
        }
        config.target_spec = Some(copy);
    }
    // store/NAME/TIMESTAMP: replays land next to the run they repeat.
    let dir = dir.canonicalize().map_err(|e| anyhow::anyhow!("--replay: {}: {e}", dir.display()))?;
    if let Some(store) = dir.parent().and_then(Path::parent) {
        config.store = store.to_path_buf();
    }
    Ok(config)
}

/// Runs one test as configured, printing as it goes; returns the exit code.
pub fn run(args: TestArgs, interrupt: &Arc<Interrupt>) -> Result<i32, Failure> {
    let config = args.config().map_err(Failure::bad_input)?;
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
