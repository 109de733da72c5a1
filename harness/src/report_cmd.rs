//! `faultline report DIR`: render a run's report.html again from its stored files, and refresh
//! the store's index.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::{exit_codes, Failure};

/// Arguments of `faultline report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The run directory (e.g. store/latest or store/etcd-register/20261123T155458.885Z).
    pub dir: PathBuf,
}

/// Renders the report of a run directory and refreshes its store's index.
pub fn run(args: ReportArgs) -> Result<i32, Failure> {
    if !args.dir.join("history.jsonl").is_file() {
        return Err(Failure::bad_input(anyhow::anyhow!("{}: not a run directory (it has no history.jsonl)", args.dir.display())));
    }
    let path = report::render_run_dir(&args.dir).map_err(Failure::bad_input)?;
    println!("report: {}", path.display());
    if let Some(store) = store_of(&args.dir) {
        let index = report::index::write(&store)
            .with_context(|| format!("cannot write the index of {}", store.display()))
            .map_err(|e| Failure { error: e, code: exit_codes::INTERNAL })?;
        println!("index: {}", index.display());
    }
    Ok(exit_codes::VALID)
}

/// The store a run directory belongs to (`store/<name>/<stamp>`), if it is in one.
pub fn store_of(dir: &Path) -> Option<PathBuf> {
    let real = dir.canonicalize().ok()?;
    let store = real.parent()?.parent()?.to_path_buf();
    real.join("test.json").is_file().then_some(store)
}
