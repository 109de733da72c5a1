//! `faultline check FILE`: read a history in any supported format, check it, print the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use checkers::elle::{ConsistencyModel, ListAppend};
use checkers::model::Scalar;
use checkers::models::{ModelName, ModelOptions, NilRead};
use checkers::{CheckDetail, CheckOptions, CheckResult, Checker, LinearizabilityResult};
use history::import::{self, Format};
use history::Validity;

use crate::exit_codes;
use crate::Failure;

/// Arguments of `faultline check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// History files — history.jsonl, a Jepsen/Knossos .edn, a Porcupine log; `-` for standard
    /// input — or directories, searched recursively for histories. Several are checked in one
    /// process, one verdict line each, with a summary.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
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
    /// Drop an incomplete last line (no newline, not an op: a writer that crashed mid-line)
    /// with a warning, instead of refusing the file. Damage anywhere else stays an error.
    #[arg(long)]
    pub allow_torn_tail: bool,
    /// What an `ok` read of nil means for register-like models: `unknown` (it constrains
    /// nothing, as in Knossos) or `value` (the register held nil). Default: `unknown` for EDN
    /// (Jepsen) histories, `value` for the others.
    #[arg(long, value_name = "unknown|value", value_parser = parse_nil_read)]
    pub nil_read: Option<NilRead>,
    /// Jepsen's independent keys: values are `[key value]` pairs, checked per key. `auto`
    /// (the default) unpacks them when every invoke's value is such a pair and some inner
    /// value is nil or a list (a read, a cas).
    #[arg(long, value_name = "auto|yes|no", default_value = "auto", value_parser = ["auto", "yes", "no"])]
    pub independent: String,
    /// What to check: `linearizable` (against --model) or `elle` (transactional anomalies in
    /// a list-append history: f = txn, value = [["append", k, v], ["r", k, list]]).
    #[arg(long, value_name = "linearizable|elle", default_value = "linearizable", value_parser = ["linearizable", "elle", "list-append"])]
    pub checker: String,
    /// With --checker elle: the isolation level the history must meet (read-committed,
    /// snapshot-isolation, serializable, strong-session-serializable, strict-serializable).
    /// Default: strict-serializable.
    #[arg(long, value_name = "MODEL", value_parser = |s: &str| s.parse::<ConsistencyModel>())]
    pub consistency_model: Option<ConsistencyModel>,
}

impl CheckArgs {
    fn elle(&self) -> bool {
        self.checker != "linearizable"
    }

    /// Flags that only one checker takes, refused before anything is read.
    fn validate(&self) -> anyhow::Result<()> {
        if self.elle() {
            for (given, flag) in [
                (self.model.is_some(), "--model"),
                (self.init.is_some(), "--init"),
                (self.nil_read.is_some(), "--nil-read"),
                (self.all_keys, "--all-keys"),
                (self.independent == "yes", "--independent yes"),
            ] {
                if given {
                    anyhow::bail!("{flag} applies to --checker linearizable, not elle (elle takes --consistency-model)");
                }
            }
        } else if self.consistency_model.is_some() {
            anyhow::bail!("--consistency-model applies to --checker elle");
        }
        Ok(())
    }
}

fn parse_nil_read(s: &str) -> Result<NilRead, String> {
    match s {
        "unknown" => Ok(NilRead::Unknown),
        "value" => Ok(NilRead::Value),
        other => Err(format!("`{other}`: unknown or value")),
    }
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

/// A history in memory takes about this many times its text (the 1M-op kv history: 229 MiB
/// of JSONL, 550 MiB of ops), plus the text while it is parsed.
const MEMORY_PER_TEXT_BYTE: usize = 3;
/// The same for a list-append history, whose values are lists of lists (1M transactions:
/// 286 MiB of JSONL, 2.8 GiB resident once read; the check's own structures are charged by the
/// checker).
const ELLE_MEMORY_PER_TEXT_BYTE: usize = 10;
/// No line of a history is longer than this (a line is one op).
const MAX_LINE: usize = 64 << 20;

/// Why the input could not be read.
enum ReadError {
    /// A bad file: exit 254.
    Bad(anyhow::Error),
    /// Past the memory budget: no verdict.
    Budget(String),
}

/// Reads the whole input, refusing a line longer than [`MAX_LINE`] and stopping once the text
/// could not fit the memory budget (so `/dev/zero` ends at once).
fn read_input(mut input: impl std::io::Read, name: &str, max_memory: usize) -> Result<String, ReadError> {
    let max_text = max_memory / MEMORY_PER_TEXT_BYTE;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let (mut line_start, mut lines) = (0usize, 1u64);
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Bad(anyhow::anyhow!("cannot read history file {name}: {e}"))),
        };
        let base = bytes.len();
        bytes.extend_from_slice(&chunk[..n]);
        for (i, _) in chunk[..n].iter().enumerate().filter(|(_, &b)| b == b'\n') {
            line_start = base + i + 1;
            lines += 1;
        }
        if bytes.len() - line_start > MAX_LINE {
            return Err(ReadError::Bad(anyhow::anyhow!("{name}:{lines}: the line is longer than {} MiB: not a history", MAX_LINE >> 20)));
        }
        if bytes.len() > max_text {
            return Err(ReadError::Budget(format!(
                "{name} is larger than {} MiB: in memory it would pass the memory budget of {} MiB (--max-memory)",
                max_text >> 20,
                max_memory >> 20
            )));
        }
    }
    String::from_utf8(bytes).map_err(|e| ReadError::Bad(anyhow::anyhow!("{name}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}

/// Checks every history named; returns the exit code of the worst verdict.
pub fn run(args: CheckArgs) -> Result<i32, Failure> {
    args.validate().map_err(Failure::bad_input)?;
    let single = args.files.len() == 1 && !args.files[0].is_dir();
    if single {
        return check_one(&args, &args.files[0], false);
    }
    if args.report.is_some() {
        return Err(Failure::bad_input(anyhow::anyhow!("--report takes one history file, not several")));
    }
    let found = find_histories(&args.files).map_err(Failure::bad_input)?;
    if found.files.is_empty() {
        return Err(Failure::bad_input(anyhow::anyhow!("no history files found in {}", found.searched.join(", "))));
    }
    let started = std::time::Instant::now();
    let mut counts = [0usize; 4]; // valid, invalid, unknown, errors
    for file in &found.files {
        match check_one(&args, file, true) {
            Ok(code) if code == exit_codes::VALID => counts[0] += 1,
            Ok(code) if code == exit_codes::INVALID => counts[1] += 1,
            Ok(_) => counts[2] += 1,
            Err(failure) => {
                counts[3] += 1;
                println!("{}", report::terminal_safe(&format!("error    {}: {:#}", file.display(), failure.error)));
            }
        }
    }
    let skipped = match found.skipped.first() {
        Some(first) => format!("; {} other files skipped as not histories (first: {})", found.skipped.len(), first.display()),
        None => String::new(),
    };
    println!(
        "{} histories in {:.2} s: {} valid, {} invalid, {} unknown, {} could not be read{skipped}",
        found.files.len(),
        started.elapsed().as_secs_f64(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    // The worst: a file that could not be checked, then invalid, then unknown.
    Ok(if counts[3] > 0 {
        exit_codes::BAD_INPUT
    } else if counts[1] > 0 {
        exit_codes::INVALID
    } else if counts[2] > 0 {
        exit_codes::UNKNOWN
    } else {
        exit_codes::VALID
    })
}

/// The histories named: files as given, directories searched recursively.
struct Found {
    files: Vec<PathBuf>,
    /// Files in the directories that are not histories.
    skipped: Vec<PathBuf>,
    searched: Vec<String>,
}

/// Files named are taken as they are; in a directory, a file is a history when its name ends
/// in `.jsonl`, or when its first line reads as an op of a known format (an EDN map with
/// `:type`, a Jepsen log line), so a Jepsen store's `results.edn` is not taken for one.
fn find_histories(paths: &[PathBuf]) -> anyhow::Result<Found> {
    let mut found = Found { files: Vec::new(), skipped: Vec::new(), searched: Vec::new() };
    for path in paths {
        found.searched.push(path.display().to_string());
        if !path.is_dir() {
            found.files.push(path.clone());
            continue;
        }
        let mut stack = vec![path.clone()];
        let mut in_dir = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read the directory {}", dir.display()))? {
                let entry = entry.with_context(|| format!("cannot read the directory {}", dir.display()))?;
                let kind = entry.file_type().with_context(|| format!("cannot stat {}", entry.path().display()))?;
                if kind.is_dir() {
                    stack.push(entry.path());
                } else if kind.is_file() {
                    in_dir.push(entry.path());
                }
            }
        }
        in_dir.sort();
        for file in in_dir {
            if looks_like_history(&file) {
                found.files.push(file);
            } else {
                found.skipped.push(file);
            }
        }
    }
    Ok(found)
}

fn looks_like_history(file: &std::path::Path) -> bool {
    let name = file.display().to_string();
    if name.ends_with(".jsonl") {
        return true;
    }
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(file).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with(';')).unwrap_or("");
    match Format::detect(&name, &text) {
        Some(Format::Edn | Format::PorcupineKv) => first.contains(":type"),
        Some(Format::Jsonl) => first.contains("\"type\""),
        Some(Format::PorcupineEtcd) => true,
        None => false,
    }
}

/// Reads, checks and explains one history; returns the exit code of its verdict. `brief`: one
/// line (several files are being checked).
fn check_one(args: &CheckArgs, file: &std::path::Path, brief: bool) -> Result<i32, Failure> {
    let started = std::time::Instant::now();
    let stdin = file.as_os_str() == "-";
    let name = if stdin { "<stdin>".to_string() } else { file.display().to_string() };
    let max_memory = args.max_memory.unwrap_or_else(default_memory_budget);
    let read = if stdin {
        read_input(std::io::stdin().lock(), &name, max_memory)
    } else {
        match std::fs::File::open(file) {
            Ok(file) => read_input(file, &name, max_memory),
            Err(e) => Err(ReadError::Bad(anyhow::anyhow!("cannot read history file {name}: {e}"))),
        }
    };
    let text = match read {
        Ok(text) => text,
        Err(ReadError::Bad(e)) => return Err(Failure::bad_input(e)),
        Err(ReadError::Budget(why)) => {
            return Ok(budget_reached(args, &name, &why));
        }
    };
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    // What the history will hold is charged to the budget first; the search gets the rest.
    let per_byte = if args.elle() { ELLE_MEMORY_PER_TEXT_BYTE } else { MEMORY_PER_TEXT_BYTE };
    let history_bytes = text.len().saturating_mul(per_byte - 1);
    if history_bytes > max_memory {
        let why = format!(
            "{name}: {} MiB of text would take about {} MiB as a history, past the memory budget of {} MiB (--max-memory)",
            text.len() >> 20,
            history_bytes >> 20,
            max_memory >> 20
        );
        return Ok(budget_reached(args, &name, &why));
    }
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
    let mut history = match format {
        Format::Jsonl => history::History::parse_jsonl_with(&name, &text, args.allow_torn_tail),
        other => import::read_history(&name, &text, other),
    }
    .map_err(Failure::bad_input)?;
    let independent = match args.independent.as_str() {
        "yes" => true,
        "no" => false,
        _ if args.elle() => false,
        _ => import::looks_independent(&history),
    };
    if independent {
        import::unpack_independent(&mut history).map_err(Failure::bad_input)?;
    }
    drop(text); // a big history's text is as large as the history: free it before the search
    if args.elle() {
        let options = CheckOptions { max_memory: max_memory.saturating_sub(history_bytes), ..check_options(args) };
        return check_elle(args, &name, format, &history, &options, brief, started);
    }
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
    let options = CheckOptions { max_memory: max_memory.saturating_sub(history_bytes), ..check_options(args) };
    if args.nil_read.is_some() && !model.reads_nil() {
        return Err(Failure::bad_input(anyhow::anyhow!("--nil-read does not apply to the {} model", model.name())));
    }
    let nil_read = args.nil_read.unwrap_or(if format == Format::Edn { NilRead::Unknown } else { NilRead::Value });
    let model_options = ModelOptions { init: args.init.as_deref().map(Scalar::parse_arg), nil_read };
    let result = model.check(&model_options, &history, &options).map_err(Failure::bad_input)?;
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
            "independent": independent,
            "result": result,
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| Failure { error: e.into(), code: exit_codes::INTERNAL })?);
    } else if brief {
        let line = format!(
            "{:<8} {name} ({}, {} ops, {} key{}, model {}) {:.1} ms",
            valid.as_str(),
            format.name(),
            result.ops,
            result.keys,
            plural(result.keys),
            result.model,
            started.elapsed().as_secs_f64() * 1e3
        );
        println!("{}", report::terminal_safe(&line));
    } else {
        let how = How { format, inferred, independent };
        print!("{}", report::terminal_safe(&describe(&name, &how, &history, result, &options)));
        for warning in history.warnings() {
            eprintln!("{}", report::terminal_safe(&format!("warning: {warning}")));
        }
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

/// Says that the history could not fit the memory budget (no verdict); the exit code.
fn budget_reached(args: &CheckArgs, name: &str, why: &str) -> i32 {
    if args.json {
        println!("{}", serde_json::json!({ "file": name, "valid": "unknown", "cause": "memory-budget", "detail": why }));
    } else {
        println!("{}", report::terminal_safe(&format!("unknown: the memory budget was reached before the check: {why}")));
    }
    exit_codes::UNKNOWN
}

/// The limits the flags set (the memory budget is set by the caller).
fn check_options(args: &CheckArgs) -> CheckOptions {
    CheckOptions {
        timeout: args.timeout.map(Duration::from_secs_f64),
        max_memory: 0,
        threads: args.threads.unwrap_or(CheckOptions::default().threads).max(1),
        all_keys: args.all_keys,
        interrupt: None,
    }
}

/// `--checker elle`: transactional anomalies of a list-append history.
fn check_elle(
    args: &CheckArgs,
    name: &str,
    format: Format,
    history: &history::History,
    options: &CheckOptions,
    brief: bool,
    started: std::time::Instant,
) -> Result<i32, Failure> {
    let model = args.consistency_model.unwrap_or(ConsistencyModel::StrictSerializable);
    let checks = ListAppend { model }.check(history, options).map_err(Failure::bad_input)?;
    let CheckDetail::ListAppend(r) = &checks.detail else { unreachable!("the list-append checker's own result") };
    let nemesis = history.ops.iter().filter(|op| !op.is_client()).count();
    if args.json {
        let out = serde_json::json!({ "file": name, "format": format.name(), "checker": "elle", "nemesis_ops": nemesis, "valid": checks.valid, "result": r });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| Failure { error: e.into(), code: exit_codes::INTERNAL })?);
    } else if brief {
        let found = if r.prohibited.is_empty() { String::new() } else { format!(": {}", r.prohibited.join(", ")) };
        let line = format!(
            "{:<8} {name} ({}, {} txns, {}){found} {:.1} ms",
            checks.valid.as_str(),
            format.name(),
            r.txns.iter().sum::<usize>(),
            r.model,
            started.elapsed().as_secs_f64() * 1e3
        );
        println!("{}", report::terminal_safe(&line));
    } else {
        let committed = if r.txns[2] > 0 { format!(", {} of them read, so committed", r.info_committed) } else { String::new() };
        let mut head = format!(
            "{name} ({}): {} transactions ({} ok, {} failed, {} indeterminate{committed}), {} keys, checked as {}\n",
            format.name(),
            r.txns.iter().sum::<usize>(),
            r.txns[0],
            r.txns[1],
            r.txns[2],
            r.keys,
            r.model
        );
        if nemesis > 0 {
            head.push_str(&format!("not checked: {nemesis} nemesis op{}\n", plural(nemesis)));
        }
        print!("{}", report::terminal_safe(&head));
        print!("{}", report::explain(&checks));
        for warning in history.warnings() {
            eprintln!("{}", report::terminal_safe(&format!("warning: {warning}")));
        }
    }
    if let Some(path) = &args.report {
        let input =
            report::ReportInput { title: name.to_string(), history, checks: Some(&checks), test: None, run: None, node_logs: Vec::new() };
        let page = report::render(&input).map_err(Failure::bad_input)?;
        std::fs::write(path, page).with_context(|| format!("cannot write the report {}", path.display())).map_err(Failure::bad_input)?;
        eprintln!("report: {}", path.display());
    }
    Ok(exit_codes::of(checks.valid))
}

/// The verdict and its explanation in words.
/// How a history was read and which model was chosen.
struct How {
    format: Format,
    inferred: bool,
    independent: bool,
}

fn describe(name: &str, how: &How, history: &history::History, r: &LinearizabilityResult, options: &CheckOptions) -> String {
    let nil = match r.nil_read {
        Some(NilRead::Unknown) => ", nil reads unknown (as Knossos; --nil-read value to count them)",
        Some(NilRead::Value) if how.format == Format::Edn => ", nil reads are values (--nil-read)",
        _ => "",
    };
    format!(
        "{name} ({}{}): {} ops, {} checked ({} indeterminate), {} key{}, model {}{}{nil}\n{}{}",
        how.format.name(),
        if how.independent { ", independent [key value] pairs" } else { "" },
        r.ops,
        r.checked_ops,
        r.indeterminate_ops,
        r.keys,
        if r.keys == 1 { "" } else { "s" },
        r.model,
        if how.inferred { " (inferred; --model to choose)" } else { "" },
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
        let what = if r.nil_read == Some(NilRead::Unknown) { "read" } else { "indeterminate read" };
        parts.push(format!("{} {what}{} with no known result (they constrain nothing)", r.unconstrained_ops, plural(r.unconstrained_ops)));
    }
    if r.unobserved_ops > 0 {
        parts.push(format!(
            "{} indeterminate write{} whose value no read shows (nothing could observe them: the verdict is the same without them)",
            r.unobserved_ops,
            plural(r.unobserved_ops)
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
