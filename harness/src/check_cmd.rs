//! `faultline check FILE`: read a history in any supported format, check it, print the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use checkers::model::Scalar;
use checkers::models::ModelName;
use checkers::{CheckDetail, CheckOptions, CheckResult, LinearizabilityResult};
use history::import::{self, Format};
use history::Validity;

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
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
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

/// Seconds: a positive, finite number, at most a year.
fn parse_timeout(s: &str) -> Result<f64, String> {
    let t: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !t.is_finite() || t <= 0.0 || t > 365.0 * 24.0 * 3600.0 {
        return Err(format!("`{s}`: the timeout must be more than 0 and at most a year of seconds"));
    }
    Ok(t)
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
    if !n.is_finite() || n <= 0.0 || n * mult as f64 > (1u64 << 50) as f64 {
        return Err(format!("`{s}`: the size must be positive and at most 1P"));
    }
    Ok((n * mult as f64) as usize)
}

/// Half of physical memory, at most 8 GiB (4 GiB if it cannot be read).
fn default_memory_budget() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok()));
    match total_kib {
        Some(kib) => (kib * 1024 / 2).min(8 << 30),
        None => 4 << 30,
    }
}

/// Reads, checks and explains one history; returns the exit code of its verdict.
pub fn run(args: CheckArgs) -> Result<i32, Failure> {
    let name = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read history file {name}")).map_err(Failure::bad_input)?;
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
    let valid = result.valid;
    let checks = CheckResult { valid, detail: CheckDetail::Linearizable(result) };
    let Some(result) = checks.linearizable() else { unreachable!("made just above") };

    // The verdict first: a report that cannot be written must not hide it.
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
        print!("{}", report::terminal_safe(&describe(&name, format, inferred, &history, result, &options)));
    }
    if let Some(path) = &args.report {
        let input = report::ReportInput {
            title: name.clone(),
            history: &history,
            checks: Some(&checks),
            test: None,
            run: None,
            node_logs: Vec::new(),
        };
        let page = report::render(&input).map_err(Failure::bad_input)?;
        std::fs::write(path, page).with_context(|| format!("cannot write the report {}", path.display())).map_err(Failure::bad_input)?;
        eprintln!("report: {}", path.display());
    }
    Ok(exit_codes::of(valid))
}

/// The verdict and its explanation in words.
fn describe(
    name: &str,
    format: Format,
    inferred: bool,
    history: &history::History,
    r: &LinearizabilityResult,
    options: &CheckOptions,
) -> String {
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

/// The verdict in words, with the limits when they were reached.
fn explain(r: &LinearizabilityResult, options: &CheckOptions) -> String {
    let mut out = report::explain(&CheckResult { valid: r.valid, detail: CheckDetail::Linearizable(r.clone()) });
    if r.valid == Validity::Unknown {
        if let Some(t) = options.timeout {
            out.push_str(&format!("  (limits: --timeout {} s, --max-memory {} MiB)\n", t.as_secs_f64(), options.max_memory >> 20));
        }
    }
    out
}

/// What the check left out, and why: every op and line is either checked or accounted for here.
fn not_checked(history: &history::History, r: &LinearizabilityResult) -> String {
    let mut parts = Vec::new();
    if r.failed_ops > 0 {
        parts.push(format!("{} failed op{} (they did not happen)", r.failed_ops, plural(r.failed_ops)));
    }
    if r.unconstrained_ops > 0 {
        parts.push(format!(
            "{} indeterminate read{} (no result: they constrain nothing)",
            r.unconstrained_ops,
            plural(r.unconstrained_ops)
        ));
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

#[cfg(test)]
mod tests {
    use super::{parse_size, parse_timeout};

    /// Issue 10, item 7: `--timeout -1|nan|inf|1e300` panicked (exit 101).
    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("1.5"), Ok(1.5));
        for bad in ["-1", "0", "nan", "NaN", "inf", "1e300", "soon"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }
}
