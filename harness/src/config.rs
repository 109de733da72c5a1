//! A test's configuration, in two stages (ripgrep's LowArgs → HiArgs). [`TestConfig`] is plain
//! data: the flags of `faultline test`, also read from files (its serde names are the flags
//! with `_`). [`TestConfig::plan`] checks every value and builds the target, the workload and
//! the faults — with no side effect: nothing is installed, created or started — or says which
//! flag is wrong. [`TestConfig::to_args`] turns a config back into flags, so the rerun command
//! is generated, not hand-listed.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use nemesis::faults::{ClockMode, ClockStrategy, NodeSelection};
use nemesis::grudge::Shape;
use nemesis::{Fault, FaultKind, FaultOptions};
use serde::{Deserialize, Serialize};
use targets::bundled::Bug;
use targets::{Db, TargetKind, TargetOptions};
use workloads::{Workload, WorkloadKind, WorkloadOptions};

/// Everything `faultline test` takes.
#[derive(clap::Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestConfig {
    /// The system under test.
    #[arg(long, value_enum, default_value = "bundled")]
    pub target: TargetKind,
    /// A target described in a spec file (TOML) instead of --target: how to start a node, how
    /// to know it is ready, and an HTTP request per operation (see examples/etcd.toml).
    #[arg(long, value_name = "FILE")]
    pub target_spec: Option<PathBuf>,
    /// Bugs to switch on (repeatable): the bundled node's (stale-read, lazy-fsync,
    /// small-quorum, lease-read, torn-txn), or those a --target-spec lists under [bugs].
    #[arg(long)]
    pub bug: Vec<String>,
    /// What the clients do, and how the history is checked.
    #[arg(long, value_enum, default_value = "register")]
    pub workload: WorkloadKind,
    /// Number of nodes.
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// Concurrent clients; client i talks to node i mod nodes.
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Seconds of workload.
    #[arg(long, default_value_t = 30.0)]
    pub time_limit: f64,
    /// Operations per second over all clients (0: as fast as the clients go).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seed of every random choice (random, printed and stored, when left out).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Operations per key before the workload moves on to a fresh key.
    #[arg(long, default_value_t = 100)]
    pub ops_per_key: u64,
    /// Seconds before a request is given up as indeterminate.
    #[arg(long, default_value_t = 1.0)]
    pub request_timeout: f64,
    /// Seconds the checkers may take before answering unknown.
    #[arg(long, default_value_t = 60.0)]
    pub check_timeout: f64,
    /// Where run directories go.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// The test's name (default: TARGET-WORKLOAD).
    #[arg(long)]
    pub name: Option<String>,
    /// The etcd binary (a name on PATH, or a path).
    #[arg(long, default_value = "etcd")]
    pub etcd_binary: String,
    /// etcd, lock workloads: seconds a lock's lease lives without a keep-alive (etcd 3.4's
    /// minimum is 2).
    #[arg(long, default_value_t = 2)]
    pub lock_ttl: u64,
    /// Redis: milliseconds a sentinel waits for an unreachable primary before calling it down
    /// (down-after-milliseconds).
    #[arg(long, default_value_t = 2000)]
    pub redis_down_after_ms: u64,
    /// Redis: sentinel's failover-timeout, in milliseconds.
    #[arg(long, default_value_t = 10000)]
    pub redis_failover_timeout_ms: u64,
    /// Redis: the primary refuses writes unless this many replicas acknowledged it within
    /// --redis-min-replicas-max-lag seconds (0, as shipped: it never refuses).
    #[arg(long, default_value_t = 0)]
    pub redis_min_replicas_to_write: u32,
    /// Redis: how recent, in seconds, a replica must be to count for
    /// --redis-min-replicas-to-write.
    #[arg(long, default_value_t = 10)]
    pub redis_min_replicas_max_lag: u32,
    /// Seconds a node may take to become ready (a --target-spec's `[ready] timeout_seconds`,
    /// when it has one, replaces this).
    #[arg(long, default_value_t = 30.0)]
    pub start_timeout: f64,
    /// Do not install missing system packages with apt-get; stop with the install command.
    #[arg(long)]
    pub no_install: bool,
    /// Faults to inject, comma-separated, or `all`, or `none`.
    #[arg(long, value_delimiter = ',', default_value = "partition,kill", value_parser = nemesis_names())]
    pub nemesis: Vec<String>,
    /// Seconds between faults.
    #[arg(long, default_value_t = 5.0)]
    pub nemesis_interval: f64,
    /// Seconds each fault lasts (default: the interval).
    #[arg(long)]
    pub fault_duration: Option<f64>,
    /// Partition shapes to draw from (one, halves, majorities-ring, bridge, primaries,
    /// one-way), or one explicit grudge: `n1,n2|n3,n4,n5` or `n1>n2;n3>n2`.
    #[arg(long, default_value = "one,halves,majorities-ring,bridge,primaries")]
    pub partition: String,
    /// Nodes a kill or restart hits, drawn per fault.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "one,minority,primaries")]
    pub kill_targets: Vec<NodeSelection>,
    /// Nodes a pause hits, drawn per fault.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "one,minority,primaries")]
    pub pause_targets: Vec<NodeSelection>,
    /// Fraction of incoming packets a loss fault drops at its nodes.
    #[arg(long, default_value_t = 0.2)]
    pub loss: f64,
    /// Delay a latency fault adds to every packet arriving at its nodes, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub latency_ms: u64,
    /// Up to this many more milliseconds, at random, per packet.
    #[arg(long, default_value_t = 20)]
    pub jitter_ms: u64,
    /// How clock faults skew clocks.
    #[arg(long, value_enum, default_value = "faketime")]
    pub clock_strategy: ClockStrategy,
    /// Largest clock offset of a clock fault, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub clock_skew_ms: i64,
    /// How a libfaketime clock fault moves clocks.
    #[arg(long, value_enum, default_value = "mixed")]
    pub clock_mode: ClockMode,
    /// The faultline binary that runs the bundled node (default: this one). For running tests
    /// from another program (a benchmark) that is not faultline itself.
    #[arg(long, hide = true)]
    pub bundled_binary: Option<PathBuf>,
    /// For tests of faultline itself: panic after this many seconds of workload.
    #[arg(long, hide = true)]
    pub fail_after: Option<f64>,
}

/// `--nemesis` takes the fault names of the registry, `all` and `none`.
fn nemesis_names() -> clap::builder::PossibleValuesParser {
    use clap::ValueEnum;
    let mut values: Vec<clap::builder::PossibleValue> = FaultKind::value_variants().iter().filter_map(|k| k.to_possible_value()).collect();
    values.push(clap::builder::PossibleValue::new("all").help("Every fault above"));
    values.push(clap::builder::PossibleValue::new("none").help("No faults"));
    clap::builder::PossibleValuesParser::new(values)
}

/// `faultline test`'s flags alone, to parse a config from arguments.
#[derive(Parser, Debug)]
#[command(name = "faultline-test", no_binary_name = true)]
struct Standalone {
    #[command(flatten)]
    config: TestConfig,
}

impl Default for TestConfig {
    fn default() -> TestConfig {
        TestConfig::parse_args(std::iter::empty::<String>()).unwrap_or_else(|e| unreachable!("the defaults parse: {e}"))
    }
}

/// A configuration value that is not acceptable: which flag, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--{flag}: {message}")]
pub struct ConfigError {
    /// The flag, without its dashes (`time-limit`).
    pub flag: String,
    /// What is wrong and what is expected.
    pub message: String,
}

fn bad(flag: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { flag: flag.to_string(), message: message.into() }
}

/// A validated configuration, with everything built from it. Building it touched nothing.
pub struct Plan {
    /// The configuration, with the seed chosen.
    pub config: TestConfig,
    /// The test's name.
    pub name: String,
    /// The seed.
    pub seed: u64,
    /// The target.
    pub db: Box<dyn Db>,
    /// The target's name (`etcd`, or a spec's `name`).
    pub target_name: String,
    /// The workload.
    pub workload: Box<dyn Workload>,
    /// The faults, in the order of their kinds.
    pub faults: Vec<Box<dyn Fault>>,
    /// Notes about the run (faults that cannot act on this target, …).
    pub notes: Vec<String>,
    /// --time-limit.
    pub time_limit: Duration,
    /// --request-timeout.
    pub request_timeout: Duration,
    /// --check-timeout.
    pub check_timeout: Duration,
    /// --start-timeout.
    pub start_timeout: Duration,
    /// --nemesis-interval.
    pub nemesis_interval: Duration,
    /// --fault-duration, or the interval.
    pub fault_duration: Duration,
    /// --fail-after.
    pub fail_after: Option<Duration>,
}

/// Seconds as a duration: finite, positive (or zero when allowed), at most `max`.
fn seconds(flag: &str, value: f64, allow_zero: bool, max: f64) -> Result<Duration, ConfigError> {
    if !value.is_finite() {
        return Err(bad(flag, format!("must be a number of seconds, not {value}")));
    }
    if value < 0.0 || (value == 0.0 && !allow_zero) {
        return Err(bad(flag, format!("must be {} seconds, not {value}", if allow_zero { "0 or more" } else { "more than 0" })));
    }
    if value > max {
        return Err(bad(flag, format!("must be at most {max} seconds, not {value}")));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Thirty days: longer than any test, short enough for any clock arithmetic.
const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

impl TestConfig {
    /// Parses `faultline test`'s flags (without the subcommand).
    pub fn parse_args<I, T>(args: I) -> Result<TestConfig, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Standalone::try_parse_from(args).map(|s| s.config)
    }

    /// The flags that give this config back (every option, defaults included, so a rerun does
    /// not depend on today's defaults). Generated from clap's own list of the flags and the
    /// config's serde form: a new option needs no change here.
    pub fn to_args(&self) -> Vec<String> {
        let values = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Vec::new(),
        };
        let command = Standalone::command();
        let mut args = Vec::new();
        for arg in command.get_arguments() {
            let (Some(long), Some(value)) = (arg.get_long(), values.get(arg.get_id().as_str())) else { continue };
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match value {
                serde_json::Value::Null | serde_json::Value::Bool(false) => {}
                serde_json::Value::Bool(true) => args.push(format!("--{long}")),
                serde_json::Value::Array(items) if items.is_empty() => {}
                serde_json::Value::Array(items) if arg.get_value_delimiter().is_some() => {
                    args.push(format!("--{long}={}", items.iter().map(text).collect::<Vec<_>>().join(",")))
                }
                serde_json::Value::Array(items) => args.extend(items.iter().map(|v| format!("--{long}={}", text(v)))),
                other => args.push(format!("--{long}={}", text(other))),
            }
        }
        args
    }

    /// The command that repeats this run, shell-quoted for display.
    pub fn rerun_command(&self) -> String {
        let mut words = vec!["faultline".to_string(), "test".to_string()];
        words.extend(self.to_args());
        words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
    }

    /// The fault kinds `--nemesis` asks for, in registry order.
    pub fn fault_kinds(&self) -> Result<Vec<FaultKind>, ConfigError> {
        use clap::ValueEnum;
        let mut kinds = Vec::new();
        let names: Vec<&str> = self.nemesis.iter().map(|n| n.trim()).collect();
        if names.is_empty() {
            return Err(bad("nemesis", "name at least one fault, or `none`"));
        }
        if names.contains(&"none") && names.len() > 1 {
            return Err(bad("nemesis", "`none` cannot be combined with faults"));
        }
        for name in names {
            match name {
                "none" => {}
                "all" => kinds.extend(FaultKind::value_variants()),
                other => kinds.push(FaultKind::from_str(other, false).map_err(|_| {
                    let known: Vec<&str> = FaultKind::value_variants().iter().map(|k| k.name()).collect();
                    bad("nemesis", format!("unknown fault `{other}`: {}, all or none", known.join(", ")))
                })?),
            }
        }
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    }

    /// Checks every value and builds the target, the workload and the faults. No side effect.
    pub fn plan(&self) -> Result<Plan, ConfigError> {
        let c = self;
        if !(1..=50).contains(&c.nodes) {
            return Err(bad("nodes", format!("must be between 1 and 50, not {}", c.nodes)));
        }
        if !(1..=1000).contains(&c.concurrency) {
            return Err(bad("concurrency", format!("must be between 1 and 1000, not {}", c.concurrency)));
        }
        let time_limit = seconds("time-limit", c.time_limit, false, MAX_SECONDS)?;
        if !c.rate.is_finite() || c.rate < 0.0 {
            return Err(bad("rate", format!("must be 0 (unpaced) or a positive number of operations per second, not {}", c.rate)));
        }
        if c.ops_per_key == 0 {
            return Err(bad("ops-per-key", "must be at least 1"));
        }
        let request_timeout = seconds("request-timeout", c.request_timeout, false, 3600.0)?;
        let check_timeout = seconds("check-timeout", c.check_timeout, false, MAX_SECONDS)?;
        let start_timeout = seconds("start-timeout", c.start_timeout, false, 3600.0)?;
        let nemesis_interval = seconds("nemesis-interval", c.nemesis_interval, false, MAX_SECONDS)?;
        let fault_duration = match c.fault_duration {
            Some(d) => seconds("fault-duration", d, false, MAX_SECONDS)?,
            None => nemesis_interval,
        };
        let fail_after = c.fail_after.map(|s| seconds("fail-after", s, true, MAX_SECONDS)).transpose()?;
        if c.store.as_os_str().is_empty() {
            return Err(bad("store", "must name a directory"));
        }
        if c.target_spec.is_some() && c.target != TargetKind::Bundled {
            return Err(bad("target-spec", format!("replaces --target: leave out --target {}", c.target.name())));
        }
        if !c.bug.is_empty() && c.target != TargetKind::Bundled && c.target_spec.is_none() {
            return Err(bad("bug", "applies to the bundled target and to spec targets with [bugs] only"));
        }
        if c.etcd_binary.is_empty() {
            return Err(bad("etcd-binary", "must name a program"));
        }
        if !(1..=3600).contains(&c.lock_ttl) {
            return Err(bad("lock-ttl", format!("must be between 1 and 3600 seconds, not {}", c.lock_ttl)));
        }
        if !(100..=600_000).contains(&c.redis_down_after_ms) {
            return Err(bad("redis-down-after-ms", format!("must be between 100 and 600000, not {}", c.redis_down_after_ms)));
        }
        if !(1000..=3_600_000).contains(&c.redis_failover_timeout_ms) {
            return Err(bad("redis-failover-timeout-ms", format!("must be between 1000 and 3600000, not {}", c.redis_failover_timeout_ms)));
        }
        if c.redis_min_replicas_to_write as usize >= c.nodes.max(1) {
            return Err(bad(
                "redis-min-replicas-to-write",
                format!("must be less than --nodes ({}): there are {} replicas", c.nodes, c.nodes - 1),
            ));
        }
        if !(1..=3600).contains(&c.redis_min_replicas_max_lag) {
            return Err(bad(
                "redis-min-replicas-max-lag",
                format!("must be between 1 and 3600 seconds, not {}", c.redis_min_replicas_max_lag),
            ));
        }

        let kinds = self.fault_kinds()?;
        if kinds.contains(&FaultKind::Loss) && !(c.loss > 0.0 && c.loss <= 1.0) {
            return Err(bad("loss", format!("is a fraction of packets, more than 0 and at most 1, not {}", c.loss)));
        }
        if c.latency_ms > 60_000 || c.jitter_ms > 60_000 {
            return Err(bad(if c.latency_ms > 60_000 { "latency-ms" } else { "jitter-ms" }, "must be at most 60000 ms"));
        }
        if !(1..=86_400_000).contains(&c.clock_skew_ms) {
            return Err(bad("clock-skew-ms", format!("must be between 1 and 86400000 ms, not {}", c.clock_skew_ms)));
        }
        if c.kill_targets.is_empty() {
            return Err(bad("kill-targets", "name at least one of one, minority, majority, primaries, all"));
        }
        if c.pause_targets.is_empty() {
            return Err(bad("pause-targets", "name at least one of one, minority, majority, primaries, all"));
        }
        let node_names: Vec<String> = (1..=c.nodes).map(|i| format!("n{i}")).collect();
        let shapes = Shape::parse_list(&c.partition).map_err(|e| bad("partition", e))?;
        for shape in &shapes {
            shape.validate(&node_names).map_err(|e| bad("partition", e))?;
        }
        if kinds.contains(&FaultKind::Clock) && c.clock_strategy == ClockStrategy::System && c.nodes > 1 {
            return Err(bad(
                "clock-strategy",
                "system moves the whole machine's clock, which every local node shares: use it with --nodes 1 (or real hosts)",
            ));
        }

        let faultline = match &c.bundled_binary {
            Some(binary) => binary.display().to_string(),
            None => std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "faultline".to_string()),
        };
        let db: Box<dyn Db> = match &c.target_spec {
            Some(path) => Box::new(targets::spec::load(path, &faultline, &c.bug).map_err(|e| bad("target-spec", e.to_string()))?),
            None => {
                let mut bugs = Vec::new();
                for name in &c.bug {
                    use clap::ValueEnum;
                    bugs.push(Bug::from_str(name, false).map_err(|_| {
                        let known: Vec<&str> = Bug::value_variants().iter().map(|b| b.name()).collect();
                        bad("bug", format!("the bundled node has no bug `{name}`: it has {}", known.join(", ")))
                    })?);
                }
                c.target.build(&TargetOptions {
                    bugs,
                    bundled_binary: Some(faultline.clone()),
                    etcd_binary: c.etcd_binary.clone(),
                    lock_ttl: c.lock_ttl,
                    redis_down_after_ms: c.redis_down_after_ms,
                    redis_failover_timeout_ms: c.redis_failover_timeout_ms,
                    redis_min_replicas_to_write: c.redis_min_replicas_to_write,
                    redis_min_replicas_max_lag: c.redis_min_replicas_max_lag,
                })
            }
        };
        let target_name = db.name().to_string();
        let name = c.name.clone().unwrap_or_else(|| format!("{target_name}-{}", c.workload.name()));
        results::validate_name(&name).map_err(|e| bad("name", e))?;
        // A target that knows its nodes take longer than --start-timeout gets its time.
        // A spec's own `[ready] timeout_seconds` is what its author measured: it wins.
        let start_timeout = db.start_timeout().unwrap_or(start_timeout);
        let workload = c.workload.build(&WorkloadOptions { ops_per_key: c.ops_per_key });
        db.supports(workload.as_ref()).map_err(|e| bad("workload", e.to_string()))?;

        let mut notes = Vec::new();
        if kinds.contains(&FaultKind::Clock) {
            match c.clock_strategy {
                ClockStrategy::System => {
                    notes.push("clock faults move this machine's wall clock (--clock-strategy system); it is restored at each heal".into())
                }
                ClockStrategy::Faketime => {
                    for req in db.requirements() {
                        // Only a program that exists can be inspected; a missing one is
                        // reported (or installed) by the preflight, before the run starts.
                        if let Err(why) = nemesis::clock::can_skew(&req.program) {
                            if !why.contains("not found") && !why.contains("libfaketime is not installed") {
                                notes.push(format!(
                                    "clock faults cannot skew {target_name}: {why}; they are recorded but change nothing there"
                                ));
                            }
                        }
                    }
                }
            }
        }
        if shapes.contains(&Shape::Primaries)
            && kinds.contains(&FaultKind::Partition)
            && c.target == TargetKind::Bundled
            && c.target_spec.is_none()
        {
            notes.push("the bundled node has no leader: a `primaries` partition is recorded with an error and changes nothing".into());
        }

        let options = FaultOptions {
            partition: shapes,
            kill_targets: c.kill_targets.clone(),
            pause_targets: c.pause_targets.clone(),
            loss: c.loss,
            latency: Duration::from_millis(c.latency_ms),
            jitter: Duration::from_millis(c.jitter_ms),
            clock_strategy: c.clock_strategy,
            clock_skew_ms: c.clock_skew_ms,
            clock_mode: c.clock_mode,
        };
        let faults = kinds.iter().map(|k| k.build(&options)).collect();
        let seed = c.seed.unwrap_or_else(fresh_seed);
        let config = TestConfig { seed: Some(seed), ..c.clone() };
        Ok(Plan {
            config,
            name,
            seed,
            db,
            target_name,
            workload,
            faults,
            notes,
            time_limit,
            request_timeout,
            check_timeout,
            start_timeout,
            nemesis_interval,
            fault_duration,
            fail_after,
        })
    }
}

/// A word for a POSIX shell: as it is when it has only characters no shell treats specially,
/// else in single quotes (a `'` inside becomes `'\''`). (The shlex crate quotes any `=`, which
/// would quote every `--flag=value`.)
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=.,/:+%@".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// 64 bits from the clock and the process id, mixed.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let mut state = nanos ^ (u64::from(std::process::id()) << 40);
    history::rng::splitmix(&mut state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use history::Rng;

    fn parse(args: &[&str]) -> TestConfig {
        TestConfig::parse_args(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn plan_error(args: &[&str]) -> ConfigError {
        match parse(args).plan() {
            Ok(_) => panic!("{args:?} should be refused"),
            Err(e) => e,
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = TestConfig::default();
        assert_eq!((c.target, c.workload, c.nodes, c.concurrency), (TargetKind::Bundled, WorkloadKind::Register, 5, 10));
        assert_eq!(c.nemesis, vec!["partition", "kill"]);
        assert_eq!(c.fault_kinds().unwrap(), vec![FaultKind::Partition, FaultKind::Kill]);
        let plan = c.plan().unwrap();
        assert_eq!(plan.faults.len(), 2);
        assert_eq!(plan.fault_duration, plan.nemesis_interval);
    }

    /// Issue 10, item 7: bad numbers panicked after the cluster had started.
    #[test]
    fn bad_numbers_name_their_flag() {
        for (args, flag) in [
            (&["--time-limit=-1"][..], "time-limit"),
            (&["--time-limit=NaN"], "time-limit"),
            (&["--time-limit=inf"], "time-limit"),
            (&["--time-limit=0"], "time-limit"),
            (&["--nemesis-interval=NaN"], "nemesis-interval"),
            (&["--nemesis-interval=inf"], "nemesis-interval"),
            (&["--request-timeout=-1"], "request-timeout"),
            (&["--start-timeout=-1"], "start-timeout"),
            (&["--check-timeout=-1"], "check-timeout"),
            (&["--check-timeout=NaN"], "check-timeout"),
            (&["--rate=-1"], "rate"),
            (&["--rate=NaN"], "rate"),
            (&["--fault-duration=0"], "fault-duration"),
            (&["--nodes=0"], "nodes"),
            (&["--concurrency=0"], "concurrency"),
            (&["--ops-per-key=0"], "ops-per-key"),
            (&["--nemesis=loss", "--loss=1.5"], "loss"),
            (&["--nemesis=loss", "--loss=NaN"], "loss"),
            (&["--clock-skew-ms=-5"], "clock-skew-ms"),
        ] {
            assert_eq!(plan_error(args).flag, flag, "{args:?}");
        }
    }

    #[test]
    fn bad_names_and_grudges_name_their_flag() {
        for (args, flag, says) in [
            (&["--partition=n1,n2|n3", "--nodes=2"][..], "partition", "unknown node `n3`"),
            (&["--partition=n1|"], "partition", "at least one node"),
            (&["--partition=n2>n2"], "partition", "its own packets"),
            (&["--partition=triangle"], "partition", "unknown partition"),
            (&["--nemesis=none,kill"], "nemesis", "cannot be combined"),
            (&["--name=../x"], "name", "letters"),
            (&["--name=.."], "name", "letters"),
            (&["--target=etcd", "--bug=stale-read"], "bug", "bundled target and to spec targets"),
            (&["--bug=stale-reads"], "bug", "has no bug `stale-reads`"),
            (&["--target-spec=/nonexistent/spec.toml"], "target-spec", "cannot read it"),
            (&["--target-spec=x.toml", "--target=etcd"], "target-spec", "leave out --target etcd"),
            (&["--nemesis=clock", "--clock-strategy=system"], "clock-strategy", "every local node shares"),
        ] {
            let e = plan_error(args);
            assert_eq!(e.flag, flag, "{args:?}: {e}");
            assert!(e.to_string().contains(says), "{args:?}: {e}");
        }
        // Names clap itself refuses before a config exists.
        for args in [&["--nemesis=gremlins"][..], &["--target=mongo"], &["--kill-targets=half"], &["--clock-mode=wobble"]] {
            assert!(TestConfig::parse_args(args).is_err(), "{args:?}");
        }
    }

    /// Draws random flags for every option clap knows, from its possible values or its type.
    fn random_args(rng: &mut Rng) -> Vec<String> {
        use clap::builder::ArgAction;
        let command = Standalone::command();
        let mut args = Vec::new();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if rng.below(3) == 0 {
                continue; // keep its default
            }
            if matches!(arg.get_action(), ArgAction::SetTrue) {
                args.push(format!("--{long}"));
                continue;
            }
            let possible: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
            let many = matches!(arg.get_action(), ArgAction::Append);
            let count = if many { 1 + rng.below(3) } else { 1 };
            let mut values = Vec::new();
            for _ in 0..count {
                let value = if !possible.is_empty() {
                    rng.pick(&possible).cloned().unwrap_or_default()
                } else {
                    let t = arg.get_value_parser().type_id();
                    let id = |p: clap::builder::ValueParser| p.type_id();
                    if t == id(clap::value_parser!(f64).into()) {
                        format!("{}", rng.below(1_000_000) as f64 / 997.0)
                    } else if t == id(clap::value_parser!(i64).into()) {
                        format!("{}", rng.below(20_000) as i64 - 10_000)
                    } else if t == id(clap::value_parser!(u32).into()) {
                        format!("{}", rng.below(u32::MAX as u64))
                    } else if t == clap::builder::ValueParser::string().type_id() || t == clap::builder::ValueParser::path_buf().type_id() {
                        let words = ["a", "x y", "n1,n2|n3", "'q'", "$HOME", "--dash", "é"];
                        rng.pick(&words).map(|w| w.to_string()).unwrap_or_default()
                    } else {
                        format!("{}", rng.below(u64::MAX >> 1))
                    }
                };
                values.push(value);
            }
            if arg.get_value_delimiter().is_some() && !values.iter().any(|v| v.contains(',')) {
                args.push(format!("--{long}={}", values.join(",")));
            } else {
                args.extend(values.iter().map(|v| format!("--{long}={v}")));
            }
        }
        args
    }

    /// The rerun command gives back the very same config, for random configs.
    #[test]
    fn to_args_round_trips_random_configs() {
        let mut rng = Rng::new(2026);
        let mut checked = 0;
        for _ in 0..2000 {
            let args = random_args(&mut rng);
            let Ok(config) = TestConfig::parse_args(&args) else { continue };
            let again = TestConfig::parse_args(config.to_args()).unwrap_or_else(|e| panic!("{:?}: {e}", config.to_args()));
            assert_eq!(again, config, "from {args:?}");
            // The display form, split again as a shell would, is the same command.
            let words = shlex::split(&config.rerun_command()).expect("a shell-quoted command");
            assert_eq!(TestConfig::parse_args(&words[2..]).unwrap(), config);
            checked += 1;
        }
        assert!(checked > 500, "enough random configs parsed: {checked}");
    }

    #[test]
    fn a_config_file_uses_the_flags_names_and_refuses_unknown_keys() {
        let c: TestConfig =
            serde_json::from_value(serde_json::json!({"target": "etcd", "time_limit": 8, "nemesis": ["partition"]})).unwrap();
        assert_eq!((c.target, c.time_limit, c.nodes), (TargetKind::Etcd, 8.0, 5), "the rest are the defaults");
        let e = serde_json::from_value::<TestConfig>(serde_json::json!({"time_limt": 8})).unwrap_err();
        assert!(e.to_string().contains("time_limt"), "{e}");
    }

    #[test]
    fn the_seed_is_chosen_once_and_stored() {
        let plan = TestConfig::default().plan().unwrap();
        assert_eq!(plan.config.seed, Some(plan.seed));
        assert!(plan.config.rerun_command().contains(&format!("--seed={}", plan.seed)));
    }
}
