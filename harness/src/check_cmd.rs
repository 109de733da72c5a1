//! `faultline check FILE`: read a history in any supported format, check it, print the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use checkers::import::{self, Format};
use checkers::linearizable::{CheckOptions, LinearizabilityResult};
use checkers::model::Scalar;
use checkers::models::ModelName;
use checkers::Validity;

use crate::exit_codes;
use crate::Failure;

/// Arguments of `faultline check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The history file: history.jsonl, a Jepsen/Knossos .edn, or a Porcupine log.
    pub file: PathBuf,
    /// The model (register, cas-register, kv, multi-register, mutex, counter, set, fifo).
    /// Inferred from the operations when left out.
    #[arg(long, value_parser = |s: &str| s.parse::<ModelName>())]
    pub model: Option<ModelName>,
    /// Initial value of register-like models (nil unless told): 0, nil, "text".
    #[arg(long)]
    pub init: Option<String>,
    /// The file format (jsonl, edn, porcupine-etcd, porcupine-kv); detected when left out.
    #[arg(long, value_parser = |s: &str| s.parse::<Format>())]
    pub format: Option<Format>,
    /// Give up with `unknown` after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Memory budget (e.g. 512M, 4G); past it the answer is `unknown`. Default: half of RAM, at
    /// most 8G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<usize>,
    /// Decide every key, even after one is found invalid.
    #[arg(long)]
    pub all_keys: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the full result as JSON instead of words.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report of the history and the verdict to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// `512M`, `4G`, `1.5G`, or bytes.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a size such as 512M or 4G"))?;
    if !(n > 0.0) {
        return Err(format!("`{s}`: the size must be positive"));
    }
    Ok((n * mult as f64) as usize)
}

/// Half of physical memory, at most 8 GiB (4 GiB if it cannot be read).
fn default_memory_budget() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
    });
    match total_kib {
        Some(kib) => (kib * 1024 / 2).min(8 << 30),
        None => 4 << 30,
    }
}

pub fn run(args: CheckArgs) -> Result<i32, Failure> {
    let name = args.file.display().to_string();
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read history file {name}"))
        .map_err(Failure::bad_input)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{name}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
        .map_err(Failure::bad_input)?;
    if text.trim().is_empty() {
        return Err(Failure::bad_input(anyhow::anyhow!("{name}: the file is empty")));
    }
    let format = match args.format.or_else(|| Format::detect(&name, &text)) {
        Some(f) => f,
        None => {
            return Err(Failure::bad_input(anyhow::anyhow!(
                "{name}: cannot tell the format from its first line; use --format jsonl|edn|porcupine-etcd|porcupine-kv"
            )))
        }
    };
    let history = import::read_history(&name, &text, format).map_err(Failure::bad_input)?;
    drop(text); // a big history's text is as large as the history: free it before the search
    let (model, inferred) = match args.model {
        Some(m) => (m, false),
        None => match format {
            Format::PorcupineEtcd => (ModelName::CasRegister, true),
            Format::PorcupineKv => (ModelName::Kv, true),
            _ => match ModelName::infer(&history) {
                Some(m) => (m, true),
                None => {
                    return Err(Failure::bad_input(anyhow::anyhow!(
                        "{name}: cannot tell which model fits these operations; choose one with --model ({})",
                        ModelName::ALL.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ")
                    )))
                }
            },
        },
    };
    if args.init.is_some() && !model.takes_init() {
        return Err(Failure::bad_input(anyhow::anyhow!("--init does not apply to the {} model", model.name())));
    }
    let options = CheckOptions {
        timeout: args.timeout.map(Duration::from_secs_f64),
        max_memory: args.max_memory.unwrap_or_else(default_memory_budget),
        threads: args.threads.unwrap_or(CheckOptions::default().threads).max(1),
        all_keys: args.all_keys,
    };
    let init = args.init.as_deref().map(Scalar::parse_arg);
    let result = model.check(init, &history, &options).map_err(Failure::bad_input)?;

    if let Some(path) = &args.report {
        let input = report::ReportInput {
            title: name.clone(),
            history: &history,
            linearizable: Some(&result),
            test: None,
            results: None,
            node_logs: Vec::new(),
        };
        let page = report::render(&input).map_err(Failure::bad_input)?;
        std::fs::write(path, page).with_context(|| format!("cannot write the report {}", path.display())).map_err(Failure::bad_input)?;
        eprintln!("report: {}", path.display());
    }
    if args.json {
        let out = serde_json::json!({
            "file": name,
            "format": format.name(),
            "model": model.name(),
            "model_inferred": inferred,
            "result": result,
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| Failure { error: e.into(), code: exit_codes::INTERNAL })?);
    } else {
        print!("{}", describe(&name, format, inferred, &history, &result, &options));
    }
    Ok(match result.valid {
        Validity::Valid => exit_codes::VALID,
        Validity::Invalid => exit_codes::INVALID,
        Validity::Unknown => exit_codes::UNKNOWN,
    })
}

/// The verdict and its explanation in words.
fn describe(name: &str, format: Format, inferred: bool, history: &checkers::History, r: &LinearizabilityResult, options: &CheckOptions) -> String {
    format!(
        "{name} ({}): {} ops, {} checked ({} indeterminate), {} key{}, model {}{}\n{}{}",
        format.name(),
        r.ops,
        r.checked_ops,
        r.indeterminate_ops,
        r.keys,
        if r.keys == 1 { "" } else { "s" },
        r.model,
        if inferred { " (inferred; --model to choose)" } else { "" },
        not_checked(history, r),
        explain(r, options)
    )
}

/// What the check left out, and why: every op and line is either checked or accounted for here.
fn not_checked(history: &checkers::History, r: &LinearizabilityResult) -> String {
    let mut parts = Vec::new();
    if r.failed_ops > 0 {
        parts.push(format!("{} failed op{} (they did not happen)", r.failed_ops, plural(r.failed_ops)));
    }
    if r.unconstrained_ops > 0 {
        parts.push(format!("{} indeterminate read{} (no result: they constrain nothing)", r.unconstrained_ops, plural(r.unconstrained_ops)));
    }
    if r.nemesis_ops > 0 {
        parts.push(format!("{} nemesis op{}", r.nemesis_ops, plural(r.nemesis_ops)));
    }
    if let Some(first) = history.skipped_lines.first() {
        let n = history.skipped_lines.len();
        parts.push(format!("{n} log line{} without an op (first: line {first})", plural(n)));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("not checked: {}\n", parts.join(", "))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The verdict line and, when invalid, each failing key's evidence.
pub(crate) fn explain(r: &LinearizabilityResult, options: &CheckOptions) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let decided = r.per_key.iter().filter(|k| k.valid != Validity::Unknown).count();
    match r.valid {
        Validity::Valid => {
            let _ = writeln!(out, "valid: the history is linearizable ({:.1} ms)", r.elapsed_ms);
        }
        Validity::Unknown => {
            let cause = r.cause.map(|c| c.describe()).unwrap_or("undecided");
            let _ = writeln!(out, "unknown: {cause} after {:.1} s; {decided} of {} keys decided, none invalid", r.elapsed_ms / 1e3, r.keys);
            if let Some(t) = options.timeout {
                let _ = writeln!(out, "  (limits: --timeout {} s, --max-memory {} MiB)", t.as_secs_f64(), options.max_memory >> 20);
            }
        }
        Validity::Invalid => {
            let failing: Vec<_> = r.failures().collect();
            let _ = writeln!(
                out,
                "invalid: not linearizable: {} key{} failed ({:.1} ms)",
                failing.len(),
                if failing.len() == 1 { "" } else { "s" },
                r.elapsed_ms
            );
            for (k, f) in failing {
                let key = k.key.as_ref().map(|k| format!("key {k}")).unwrap_or_else(|| "the history".to_string());
                let _ = writeln!(out, "\n{key}: no linearization can include");
                let _ = writeln!(out, "  {}", f.op.describe());
                let _ = writeln!(
                    out,
                    "  The longest linearizable prefix has {} of this key's {} ops; the state after it is {}.",
                    f.prefix.len(),
                    k.ops,
                    f.state
                );
                let tail = f.prefix.len().saturating_sub(8);
                if !f.prefix.is_empty() {
                    let _ = writeln!(out, "  Its last steps{}:", if tail > 0 { format!(" (of {})", f.prefix.len()) } else { String::new() });
                    for step in &f.prefix[tail..] {
                        let _ = writeln!(out, "    {}  => state {}", step.op.describe(), step.state);
                    }
                }
                if !f.concurrent.is_empty() {
                    let _ = writeln!(out, "  Concurrent with the failing op ({}):", f.concurrent.len());
                    for op in f.concurrent.iter().take(10) {
                        let _ = writeln!(out, "    {}", op.describe());
                    }
                    if f.concurrent.len() > 10 {
                        let _ = writeln!(out, "    … and {} more (see --json)", f.concurrent.len() - 10);
                    }
                }
            }
            let cancelled = r.per_key.iter().filter(|k| k.cause.is_some()).count();
            if cancelled > 0 {
                let _ = writeln!(out, "\n{cancelled} other key(s) were not decided (stopped at the first invalid key; --all-keys decides them all).");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }
}
