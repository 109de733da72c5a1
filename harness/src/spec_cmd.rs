//! `faultline spec check FILE`: debugs a target spec in a minute. Validates the file (every
//! error names the TOML path), starts one node of it in a namespace, and tries each operation
//! the spec has, printing every request it sent and every answer it got, and whether the
//! operation behaved as a register (or set, or counter) must: a write is read back, a
//! compare-and-set with the wrong old value is refused and with the right one applied, adds
//! add up. Exit 0 when all did, 1 when one did not, 254 for a bad spec or a node that will not
//! start.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use history::Key;
use nemesis::RunId;
use serde_json::{json, Value};
use targets::spec::{Exchange, SpecClient};
use targets::{ClientOptions, Node};
use workloads::{Client, Completion, Invocation};

use crate::cluster::Cluster;
use crate::config::TestConfig;
use crate::console::Console;
use crate::exit_codes;
use crate::run::RunError;
use crate::signals::Interrupt;
use crate::Failure;

/// `faultline spec …`.
#[derive(clap::Args, Debug)]
pub struct SpecArgs {
    #[command(subcommand)]
    command: SpecCommand,
}

#[derive(clap::Subcommand, Debug)]
enum SpecCommand {
    /// Validate a target spec, start one node of it and try each of its operations once,
    /// printing what was sent and what came back.
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The spec file (TOML).
    file: PathBuf,
    /// Nodes to start (a spec whose node needs peers to be ready may need 3).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Bugs of the spec's [bugs] to switch on.
    #[arg(long)]
    bug: Vec<String>,
    /// Seconds before a request is given up.
    #[arg(long, default_value_t = 5.0)]
    request_timeout: f64,
    /// Seconds the node may take to become ready, when the spec's [ready] gives no timeout.
    #[arg(long, default_value_t = 30.0)]
    start_timeout: f64,
    /// Do not install missing system packages with apt-get; stop with the install command.
    #[arg(long)]
    no_install: bool,
}

/// Runs `faultline spec …`; returns the exit code.
pub fn run(args: SpecArgs, interrupt: &Arc<Interrupt>) -> Result<i32, Failure> {
    let SpecCommand::Check(args) = args.command;
    // The same validation as `faultline test --target-spec`, before anything happens.
    let config = TestConfig {
        target_spec: Some(args.file.clone()),
        bug: args.bug.clone(),
        nodes: args.nodes,
        request_timeout: args.request_timeout,
        start_timeout: args.start_timeout,
        no_install: args.no_install,
        nemesis: vec!["none".into()],
        ..TestConfig::default()
    };
    let plan = config.plan().map_err(Failure::bad_input)?;
    println!("{}: the spec is valid (target `{}`; operations: {})", args.file.display(), plan.target_name, plan.db.operations().join(", "));
    let to_failure = |e: RunError| match e {
        RunError::Internal(e) => Failure { error: e, code: exit_codes::INTERNAL },
        other => Failure::bad_input(anyhow::anyhow!("{other}")),
    };
    crate::preflight::prepare(&plan, &mut Console::new()).map_err(to_failure)?;
    let faultline = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "faultline".into());
    let spec = targets::spec::load(&args.file, &faultline, &args.bug).map_err(Failure::bad_input)?;

    let run_id = RunId::fresh();
    let logs = std::env::temp_dir().join(format!("faultline-spec-check-{run_id}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure { error: anyhow::anyhow!("cannot start the async runtime: {e}"), code: exit_codes::INTERNAL })?;
    let outcome = runtime.block_on(async {
        let mut cluster = Cluster::create(run_id, args.nodes, &logs).map_err(|error| Failure { error, code: exit_codes::INTERNAL })?;
        let interrupted = interrupt.clone();
        let took = cluster.start_all(&spec, plan.start_timeout, move || interrupted.requested()).await.map_err(|e| {
            Failure::bad_input(e.context(format!("{}: the node did not start (its log is in {})", args.file.display(), logs.display())))
        })?;
        println!("{} ready in {:.2} s at {}", cluster.nodes[0].name, took.as_secs_f64(), cluster.nodes[0].ip);
        targets::Db::setup(&spec, &cluster.nodes)
            .await
            .map_err(|e| Failure::bad_input(anyhow::anyhow!("{}: the cluster setup failed: {e}", args.file.display())))?;
        let options = ClientOptions { timeout: plan.request_timeout };
        let result = try_operations(&spec, &cluster.nodes[0], &options).await;
        let (_, problems) = cluster.teardown();
        for problem in problems {
            eprintln!("warning: {problem}");
        }
        result
    });
    match &outcome {
        Ok(exit_codes::VALID) => {
            let _ = std::fs::remove_dir_all(&logs);
        }
        _ => eprintln!("the node's log: {}", logs.join("nodes/n1/node.log").display()),
    }
    outcome
}

/// One step of the check: an operation, and what it must come to.
struct Step {
    workload: &'static str,
    key: &'static str,
    f: &'static str,
    value: Value,
    expect: Expect,
}

enum Expect {
    Ok,
    Fail,
    Read(Value),
}

/// The steps for the operations the spec has.
fn steps(operations: &[&str]) -> Vec<Step> {
    let has = |f: &str| operations.contains(&f);
    let step = |workload, key, f, value: Value, expect| Step { workload, key, f, value, expect };
    let mut steps = Vec::new();
    if has("read") {
        steps.push(step("register", "spec-check-register", "read", Value::Null, Expect::Read(Value::Null)));
    }
    if has("write") {
        steps.push(step("register", "spec-check-register", "write", json!(1), Expect::Ok));
        if has("read") {
            steps.push(step("register", "spec-check-register", "read", Value::Null, Expect::Read(json!(1))));
        }
        if has("cas") {
            steps.push(step("register", "spec-check-register", "cas", json!([3, 4]), Expect::Fail));
            steps.push(step("register", "spec-check-register", "cas", json!([1, 2]), Expect::Ok));
            if has("read") {
                steps.push(step("register", "spec-check-register", "read", Value::Null, Expect::Read(json!(2))));
            }
        }
    }
    if has("add") && has("read") {
        steps.push(step("set", "spec-check-set", "add", json!(1), Expect::Ok));
        steps.push(step("set", "spec-check-set", "add", json!(2), Expect::Ok));
        steps.push(step("set", "spec-check-set", "read", Value::Null, Expect::Read(json!([1, 2]))));
        steps.push(step("counter", "spec-check-counter", "add", json!(5), Expect::Ok));
        steps.push(step("counter", "spec-check-counter", "add", json!(2), Expect::Ok));
        steps.push(step("counter", "spec-check-counter", "read", Value::Null, Expect::Read(json!(7))));
    }
    steps
}

/// Tries every step against `node`, printing the exchanges; the exit code.
async fn try_operations(spec: &targets::spec::Spec, node: &Node, options: &ClientOptions) -> Result<i32, Failure> {
    let operations = targets::Db::operations(spec);
    let mut clients: Vec<(&'static str, SpecClient)> = Vec::new();
    let mut wrong = 0;
    let steps = steps(&operations);
    if steps.is_empty() {
        return Err(Failure::bad_input(anyhow::anyhow!("the spec has none of read, write, cas, add: nothing to try")));
    }
    for step in steps {
        let client = match clients.iter().position(|(w, _)| *w == step.workload) {
            Some(i) => &mut clients[i].1,
            None => {
                let mut client =
                    spec.spec_client(step.workload, node, options).context("cannot make a client").map_err(Failure::bad_input)?;
                client.record_exchanges();
                clients.push((step.workload, client));
                &mut clients.last_mut().expect("just pushed").1
            }
        };
        let op = Invocation { f: step.f.to_string(), key: Some(Key::Str(step.key.to_string())), value: step.value.clone() };
        let completion = client.invoke(&op).await;
        let trace = client.take_trace();
        let (as_expected, expected) = judge(&step.expect, &completion);
        let value = if step.value.is_null() { String::new() } else { format!(" {}", step.value) };
        println!();
        println!(
            "{} {}{value} on key {} ({} workload): {}",
            if as_expected { "ok  " } else { "WRONG" },
            step.f,
            step.key,
            step.workload,
            describe(&completion)
        );
        if !as_expected {
            println!("      expected {expected}");
            wrong += 1;
        }
        for exchange in trace {
            print_exchange(&exchange);
        }
    }
    println!();
    if wrong == 0 {
        println!("every operation behaved as expected: try `faultline test --target-spec <file>` next");
        Ok(exit_codes::VALID)
    } else {
        println!("{wrong} operation(s) did not behave as expected: see the requests and answers above");
        Ok(exit_codes::INVALID)
    }
}

fn judge(expect: &Expect, completion: &Completion) -> (bool, String) {
    match (expect, completion) {
        (Expect::Ok, Completion::Ok(_)) => (true, String::new()),
        (Expect::Ok, _) => (false, "ok (applied)".into()),
        (Expect::Fail, Completion::Fail(_)) => (true, String::new()),
        (Expect::Fail, _) => (false, "fail (a compare-and-set with the wrong old value must be refused)".into()),
        (Expect::Read(want), Completion::Ok(got)) => (got == want, format!("a read of {want}")),
        (Expect::Read(want), _) => (false, format!("a read of {want}")),
    }
}

fn describe(completion: &Completion) -> String {
    match completion {
        Completion::Ok(v) => format!("ok {v}"),
        Completion::Fail(why) => format!("fail ({why})"),
        Completion::Info(why) => format!("info: indeterminate ({why})"),
    }
}

fn print_exchange(exchange: &Exchange) {
    println!("      [{}] → {}", exchange.op, exchange.request);
    if let Some(body) = &exchange.body {
        println!("              {body}");
    }
    match &exchange.status {
        Ok(status) => println!("        ← {status} {}", clip(&exchange.answer)),
        Err(why) => println!("        ← no answer: {why}"),
    }
    println!("        = {}", exchange.outcome);
}

/// At most 300 characters of an answer, on one line.
fn clip(text: &str) -> String {
    let line = text.trim().replace('\n', " ");
    match line.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}
