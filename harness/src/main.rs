//! The `faultline` command: parses arguments and hands each subcommand to its module.

use clap::{Parser, Subcommand};
use harness::{check_cmd, clean_cmd, exit_codes, report_cmd, serve_cmd, test_cmd};

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
    /// Render a run's report.html again from its stored files (and refresh the store's index).
    Report(report_cmd::ReportArgs),
    /// Serve the index of the runs in a store, and their reports and files, over HTTP.
    Serve(serve_cmd::ServeArgs),
    /// Remove what killed runs left behind (processes, namespaces, links).
    Clean,
    /// Run one node of the bundled KV cluster (started by `faultline test`).
    #[command(hide = true)]
    KvNode(KvNodeArgs),
}

#[derive(clap::Args, Debug)]
struct KvNodeArgs {
    #[arg(long)]
    name: String,
    #[arg(long)]
    listen: std::net::SocketAddr,
    /// name=ip:port,…
    #[arg(long)]
    peers: String,
    #[arg(long)]
    data_dir: std::path::PathBuf,
    #[arg(long)]
    bug: Vec<String>,
}

fn kv_node(args: KvNodeArgs) -> Result<i32, harness::Failure> {
    let bad = |e: String| harness::Failure::bad_input(anyhow::anyhow!(e));
    let peers = args
        .peers
        .split(',')
        .map(|p| {
            let (name, addr) = p.split_once('=').ok_or_else(|| format!("--peers: `{p}` is not name=ip:port"))?;
            Ok((name.to_string(), addr.parse().map_err(|e| format!("--peers: `{addr}`: {e}"))?))
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(bad)?;
    let bugs = args.bug.iter().map(|b| targets::kv::Bug::parse(b)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
    let node = targets::kv::NodeArgs { name: args.name, listen: args.listen, peers, data_dir: args.data_dir, bugs };
    targets::kv::run(node).map_err(|e| harness::Failure { error: e, code: exit_codes::INTERNAL })?;
    Ok(exit_codes::VALID)
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
        Command::Report(args) => report_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Clean => clean_cmd::run(),
        Command::KvNode(args) => kv_node(args),
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
