//! The `faultline` command: parses arguments and hands each subcommand to its module.

use clap::{Parser, Subcommand};
use harness::signals::Interrupt;
use harness::{campaign_cmd, check_cmd, clean_cmd, exit_codes, report_cmd, serve_cmd, spec_cmd, test_cmd, Failure};

/// A Jepsen-style fault-injection and linearizability testing harness.
#[derive(Parser, Debug)]
#[command(name = "faultline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a cluster in network namespaces under a workload and faults, record the history,
    /// check it.
    Test(Box<test_cmd::TestArgs>),
    /// Run a campaign: a matrix of tests from a TOML file, with JUnit XML and a comparison with
    /// the previous campaign of the same name.
    Campaign(campaign_cmd::CampaignArgs),
    /// Check a recorded history (ours, Jepsen/Knossos EDN, or Porcupine's) for linearizability.
    Check(check_cmd::CheckArgs),
    /// Render a run's report.html again from its stored files (and refresh the store's index).
    Report(report_cmd::ReportArgs),
    /// Serve the index of the runs in a store, and their reports and files, over HTTP.
    Serve(serve_cmd::ServeArgs),
    /// Work on a target spec file: `faultline spec check FILE` tries it on one node.
    Spec(spec_cmd::SpecArgs),
    /// Remove what killed runs left behind (processes, namespaces, links).
    Clean,
    /// Run one node of the bundled KV cluster (started by `faultline test`).
    #[command(hide = true)]
    KvNode(targets::bundled::NodeCli),
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
        Command::Test(config) => match Interrupt::install() {
            Ok(interrupt) => test_cmd::run(*config, &interrupt),
            Err(e) => Err(Failure { error: anyhow::anyhow!("cannot catch signals: {e}"), code: exit_codes::INTERNAL }),
        },
        Command::Campaign(args) => match Interrupt::install() {
            Ok(interrupt) => campaign_cmd::run(args, &interrupt),
            Err(e) => Err(Failure { error: anyhow::anyhow!("cannot catch signals: {e}"), code: exit_codes::INTERNAL }),
        },
        Command::Spec(args) => match Interrupt::install() {
            Ok(interrupt) => spec_cmd::run(args, &interrupt),
            Err(e) => Err(Failure { error: anyhow::anyhow!("cannot catch signals: {e}"), code: exit_codes::INTERNAL }),
        },
        Command::Check(args) => check_cmd::run(args),
        Command::Report(args) => report_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Clean => clean_cmd::run(),
        Command::KvNode(args) => args.run().map(|_| exit_codes::VALID).map_err(|error| Failure { error, code: exit_codes::INTERNAL }),
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
