//! `faultline campaign FILE`: runs a campaign (see [`crate::campaign`]) and leaves
//! `store/campaigns/<name>/<timestamp>/` with `campaign.json`, `junit.xml` and `index.html`.
//! The exit code is the worst outcome: 1 if a test did not get its expected verdict (an
//! unexpected invalid, or a bug not caught), 2 if one has no verdict (or the budget left every
//! test out; tests it left out are listed, and skipped in JUnit), 0 if all passed; 254 for
//! a campaign file that cannot be run. Ctrl-C or SIGTERM stops it after healing the current
//! test (which is then not recorded); `--resume` runs what an interrupted campaign left.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use history::Validity;
use results::{CampaignRecord, CampaignTest, SkippedTest};

use crate::campaign::{self, Campaign, PlannedTest};
use crate::config::TestConfig;
use crate::signals::Interrupt;
use crate::{exit_codes, Failure};

/// Arguments of `faultline campaign`.
#[derive(clap::Args, Debug)]
pub struct CampaignArgs {
    /// The campaign file (TOML).
    pub file: PathBuf,
    /// Where the runs and the campaign's record go.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Run only shard I of N (`2/4`): every test is in exactly one shard, balanced by
    /// expected time, the same on every machine.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Tests run at once (each a cluster of its own; the machine must have the cores).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub jobs: u32,
    /// Continue the last interrupted campaign of this file and shard: run only what it left.
    #[arg(long)]
    pub resume: bool,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}`: I/N, e.g. 2/4"))?;
    let (i, n): (u32, u32) = (i.trim().parse().map_err(|_| format!("`{s}`: I/N"))?, n.trim().parse().map_err(|_| format!("`{s}`: I/N"))?);
    if n == 0 || n > 1000 || i == 0 || i > n {
        return Err(format!("`{s}`: I must be from 1 to N, and N from 1 to 1000"));
    }
    Ok((i, n))
}

/// Runs the campaign; returns the exit code.
pub fn run(args: CampaignArgs, interrupt: &Arc<Interrupt>) -> Result<i32, Failure> {
    let campaign = campaign::load(&args.file, &args.store).map_err(Failure::bad_input)?;
    if !nix::unistd::geteuid().is_root() {
        return Err(Failure::bad_input(anyhow::anyhow!(
            "faultline campaign needs root: its tests create network namespaces and iptables rules"
        )));
    }
    let indices = match args.shard {
        Some((i, n)) => campaign::shard(&campaign.tests, i, n),
        None => (0..campaign.tests.len()).collect(),
    };
    let internal = |e: anyhow::Error| Failure { error: e, code: exit_codes::INTERNAL };
    let (dir, mut record) = start_or_resume(&args, &campaign).map_err(internal)?;
    let done: std::collections::BTreeSet<String> = record.tests.iter().map(|t| t.id.clone()).collect();
    let todo: Vec<&PlannedTest> = indices.iter().map(|&i| &campaign.tests[i]).filter(|t| !done.contains(&t.id)).collect();
    println!(
        "campaign {}: {} test(s){}{}; record in {}",
        campaign.name,
        indices.len(),
        args.shard.map(|(i, n)| format!(", shard {i}/{n}")).unwrap_or_default(),
        if done.is_empty() { String::new() } else { format!(", {} already done", done.len()) },
        dir.display()
    );
    let started = Instant::now();
    let total = todo.len();
    let queue = Mutex::new(todo.into_iter().enumerate());
    let shared = Mutex::new(&mut record);
    let write = |record: &CampaignRecord<TestConfig>| {
        if let Err(e) = write_record(&dir, record) {
            eprintln!("warning: cannot write the campaign's record: {e:#}");
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..args.jobs {
            scope.spawn(|| loop {
                if interrupt.requested() {
                    return;
                }
                let Some((n, test)) = queue.lock().unwrap_or_else(|p| p.into_inner()).next() else { return };
                if let Some(budget) = campaign.budget {
                    if started.elapsed().as_secs_f64() + test.expected_seconds() > budget.as_secs_f64() {
                        let reason = format!(
                            "the time budget ({:.1} min) would be exceeded: {:.1} min used, this test is expected to take {:.1} min",
                            budget.as_secs_f64() / 60.0,
                            started.elapsed().as_secs_f64() / 60.0,
                            test.expected_seconds() / 60.0
                        );
                        println!("[{}/{total}] {}: skipped: {reason}", n + 1, test.id);
                        let mut r = shared.lock().unwrap_or_else(|p| p.into_inner());
                        r.skipped.push(SkippedTest { id: test.id.clone(), reason });
                        write(&r);
                        continue;
                    }
                }
                println!("[{}/{total}] {} (expect {}) …", n + 1, test.id, test.expect.as_str());
                let result = campaign::run_test(test, interrupt);
                if result.cause.as_deref() == Some("interrupted") {
                    println!("[{}/{total}] {}: interrupted; not recorded (--resume runs it again)", n + 1, test.id);
                    return;
                }
                println!(
                    "[{}/{total}] {}: {} {} in {:.1} s{}",
                    n + 1,
                    test.id,
                    result.verdict.map_or("no verdict", |v| v.as_str()),
                    if result.passed { "(as expected)" } else { "FAILED" },
                    result.duration_seconds,
                    result.cause.as_ref().map(|c| format!(": {c}")).unwrap_or_default()
                );
                let mut r = shared.lock().unwrap_or_else(|p| p.into_inner());
                r.tests.push(result);
                write(&r);
            });
        }
    });
    let interrupted = interrupt.requested();
    let order: BTreeMap<&str, usize> = campaign.tests.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    record.tests.sort_by_key(|t| order.get(t.id.as_str()).copied().unwrap_or(usize::MAX));
    record.interrupted = interrupted;
    if !interrupted {
        record.finished = Some(results::now_rfc3339());
    }
    write_record(&dir, &record).map_err(internal)?;
    let junit = record.junit().map_err(|e| internal(anyhow::anyhow!("cannot make the JUnit file: {e}")))?;
    std::fs::write(dir.join("junit.xml"), junit)
        .with_context(|| format!("cannot write {}", dir.join("junit.xml").display()))
        .map_err(internal)?;
    let page = report::campaign::render(&as_view(&record), previous_finished(&args, &campaign, &dir).as_ref());
    std::fs::write(dir.join("index.html"), page)
        .with_context(|| format!("cannot write {}", dir.join("index.html").display()))
        .map_err(internal)?;
    summary(&record);
    println!("campaign: {}", dir.display());
    let verdict = record.verdict();
    // A campaign whose budget left every test out decided nothing: not a pass.
    let nothing_ran = record.tests.is_empty() && !record.skipped.is_empty();
    if nothing_ran {
        println!("no test ran: the time budget left every one out (raise budget_minutes)");
    }
    Ok(match (interrupted || nothing_ran, verdict) {
        (_, Validity::Invalid) => exit_codes::INVALID,
        (true, _) => exit_codes::UNKNOWN,
        (false, v) => exit_codes::of(v),
    })
}

/// Per `[[test]]` entry: how many passed, and the median time to the first violation.
fn summary(record: &CampaignRecord<TestConfig>) {
    let mut groups: BTreeMap<usize, Vec<&CampaignTest<TestConfig>>> = BTreeMap::new();
    for t in &record.tests {
        groups.entry(t.group).or_default().push(t);
    }
    println!("{:<6} {:<44} {:>9} {:>24}", "entry", "first test", "passed", "first violation, median");
    for (group, tests) in groups {
        let passed = tests.iter().filter(|t| t.passed).count();
        let mut firsts: Vec<f64> = tests.iter().filter_map(|t| t.first_violation_seconds).collect();
        firsts.sort_by(|a, b| a.total_cmp(b));
        let median = firsts.get(firsts.len() / 2).map_or("-".to_string(), |s| format!("{s:.1} s"));
        println!("{group:<6} {:<44} {:>9} {median:>24}", tests[0].id, format!("{passed}/{}", tests.len()));
    }
    if !record.skipped.is_empty() {
        println!("skipped ({}): {}", record.skipped.len(), record.skipped.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", "));
    }
    if record.interrupted {
        println!("interrupted: {} test(s) recorded; `--resume` runs the rest", record.tests.len());
    }
}

fn write_record(dir: &std::path::Path, record: &CampaignRecord<TestConfig>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(record)?;
    let tmp = dir.join("campaign.json.tmp");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, dir.join("campaign.json"))?;
    Ok(())
}

/// A new record directory, or the last unfinished one of this file and shard with `--resume`.
fn start_or_resume(args: &CampaignArgs, campaign: &Campaign) -> anyhow::Result<(PathBuf, CampaignRecord<TestConfig>)> {
    let file = campaign.file.display().to_string();
    if args.resume {
        let found = campaign::previous(&args.store, &campaign.name)
            .into_iter()
            .rev()
            .find(|(_, r)| r.finished.is_none() && r.file == file && r.shard == args.shard);
        match found {
            Some((dir, mut record)) => {
                record.interrupted = false;
                return Ok((dir, record));
            }
            None => anyhow::bail!(
                "--resume: no unfinished campaign `{}` of {file}{} in {}",
                campaign.name,
                args.shard.map(|(i, n)| format!(" shard {i}/{n}")).unwrap_or_default(),
                args.store.display()
            ),
        }
    }
    let parent = campaign::campaigns_dir(&args.store, &campaign.name);
    let (dir, started) = results::new_dir(&parent).with_context(|| format!("cannot create a directory under {}", parent.display()))?;
    let record = CampaignRecord {
        name: campaign.name.clone(),
        file,
        started,
        finished: None,
        shard: args.shard,
        tests: Vec::new(),
        skipped: Vec::new(),
        interrupted: false,
    };
    Ok((dir, record))
}

/// The last finished campaign of this name and shard before this one, for the comparison (a
/// different shard holds different tests: compared, they would all read as new or gone).
fn previous_finished(args: &CampaignArgs, campaign: &Campaign, this: &std::path::Path) -> Option<CampaignRecord<results::ConfigView>> {
    campaign::previous(&args.store, &campaign.name)
        .into_iter()
        .rev()
        .find(|(dir, r)| dir != this && r.finished.is_some() && r.shard == args.shard)
        .map(|(_, r)| as_view(&r))
}

/// The record with its configurations as plain maps, as the report reads them.
fn as_view(record: &CampaignRecord<TestConfig>) -> CampaignRecord<results::ConfigView> {
    let tests = record
        .tests
        .iter()
        .map(|t| CampaignTest {
            id: t.id.clone(),
            group: t.group,
            expect: t.expect,
            verdict: t.verdict,
            passed: t.passed,
            cause: t.cause.clone(),
            duration_seconds: t.duration_seconds,
            ops_per_second: t.ops_per_second,
            first_violation_seconds: t.first_violation_seconds,
            run_dir: t.run_dir.clone(),
            config: match serde_json::to_value(&t.config) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => Default::default(),
            },
        })
        .collect();
    CampaignRecord {
        name: record.name.clone(),
        file: record.file.clone(),
        started: record.started.clone(),
        finished: record.finished.clone(),
        shard: record.shard,
        tests,
        skipped: record.skipped.clone(),
        interrupted: record.interrupted,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_shard;

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1/0", "x", "1-2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
