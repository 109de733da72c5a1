//! The `faultline` command: parses arguments and hands each subcommand to its module.

use clap::{Parser, Subcommand};
use harness::{check_cmd, clean_cmd, exit_codes, test_cmd};

/// A Jepsen-style fault-injection and linearizability testing harness.
#[derive(Parser, Debug)]
#[command(name = "faultline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a cluster in network namespaces under a workload, record the history, check it.
    Test(test_cmd::TestArgs),
    /// Check a recorded history (ours, Jepsen/Knossos EDN, or Porcupine's) for linearizability.
    Check(check_cmd::CheckArgs),
    /// Remove what killed runs left behind (processes, namespaces, links).
    Clean,
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
        Command::Test(args) => test_cmd::run(args),
        Command::Check(args) => check_cmd::run(args),
        Command::Clean => clean_cmd::run(),
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
