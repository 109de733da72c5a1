//! The `faultline` command: parses arguments and hands each subcommand to its module.

mod check_cmd;
mod exit_codes;

use clap::{Parser, Subcommand};

/// A Jepsen-style fault-injection and linearizability testing harness.
#[derive(Parser, Debug)]
#[command(name = "faultline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a recorded history (ours, Jepsen/Knossos EDN, or Porcupine's) for linearizability.
    Check(check_cmd::CheckArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit_codes::BAD_INPUT } else { exit_codes::VALID };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let outcome = std::panic::catch_unwind(|| match cli.command {
        Command::Check(args) => check_cmd::run(args),
    });
    let code = match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(failure)) => {
            eprintln!("error: {:#}", failure.error);
            failure.code
        }
        Err(_) => {
            eprintln!("error: faultline panicked (a bug: please report it with the input)");
            exit_codes::INTERNAL
        }
    };
    std::process::exit(code);
}

/// An error and the exit code it maps to.
pub(crate) struct Failure {
    pub error: anyhow::Error,
    pub code: i32,
}

impl Failure {
    /// Bad arguments or unreadable input.
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Failure {
        Failure { error: error.into(), code: exit_codes::BAD_INPUT }
    }
}
