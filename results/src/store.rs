//! Run directories: `store/<test-name>/<timestamp>/` (as in Jepsen), and `store/latest` and
//! `store/<test-name>/latest` pointing at the newest run.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One run's directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// `store/<test-name>/<timestamp>`.
    pub path: PathBuf,
    /// Wall-clock start, RFC 3339.
    pub started: String,
}

/// Names that are not test names: they are taken in the store, or leave it.
const RESERVED: [&str; 4] = ["latest", "campaigns", "index.html", "tmp"];

/// Checks a test name before anything is created: letters, digits, `.`, `_` and `-`, not
/// starting with `.` (no path separators, no `..`: a run directory stays inside its store).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(format!("`{name}`: use letters, digits, '.', '_' and '-', not starting with '.'"));
    }
    if RESERVED.contains(&name) {
        return Err(format!("`{name}` is reserved in the store"));
    }
    Ok(())
}

impl RunDir {
    /// Creates `store/<test_name>/<timestamp>/` (and `nodes/`), never reusing a directory: a
    /// run that starts in the same millisecond as another gets a suffix. Points `store/latest`
    /// and `store/<test_name>/latest` at it.
    pub fn create(store: &Path, test_name: &str) -> io::Result<RunDir> {
        validate_name(test_name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let now = chrono::Utc::now();
        let parent = store.join(test_name);
        let (path, leaf) = unique_dir(&parent, &now)?;
        std::fs::create_dir(path.join("nodes"))?;
        relink(&store.join("latest"), &Path::new(test_name).join(&leaf))?;
        relink(&parent.join("latest"), Path::new(&leaf))?;
        Ok(RunDir { path, started: now.to_rfc3339() })
    }

    /// Writes `value` as pretty JSON to `file` in the run directory.
    pub fn write_json(&self, file: &str, value: &impl Serialize) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        std::fs::write(self.path.join(file), text + "\n")
    }

    /// `nodes/<node>/`, created.
    pub fn node_dir(&self, node: &str) -> io::Result<PathBuf> {
        let dir = self.path.join("nodes").join(node);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// Creates `parent/<timestamp>` (with a suffix if another process took that name in the same
/// millisecond): never a directory someone else made. Returns it and its leaf name.
pub fn unique_dir(parent: &Path, now: &chrono::DateTime<chrono::Utc>) -> io::Result<(PathBuf, String)> {
    unique_dir_at(parent, now)
}

/// [`unique_dir`] now, with `parent/latest` pointing at it: the directory and the time,
/// RFC 3339.
pub fn new_dir(parent: &Path) -> io::Result<(PathBuf, String)> {
    let now = chrono::Utc::now();
    let (path, leaf) = unique_dir_at(parent, &now)?;
    relink(&parent.join("latest"), Path::new(&leaf))?;
    Ok((path, now.to_rfc3339()))
}

fn unique_dir_at(parent: &Path, now: &chrono::DateTime<chrono::Utc>) -> io::Result<(PathBuf, String)> {
    std::fs::create_dir_all(parent)?;
    let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let mut attempt = 1;
    loop {
        let leaf = if attempt == 1 { stamp.clone() } else { format!("{stamp}-{attempt}") };
        let path = parent.join(&leaf);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok((path, leaf)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Now, RFC 3339, as records write it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// Replaces the symlink `link` so that it points at `target`, atomically.
fn relink(link: &Path, target: &Path) -> io::Result<()> {
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = link.with_extension(format!("tmp{}-{unique}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_run_dirs_and_latest_links() {
        let store = std::env::temp_dir().join(format!("faultline-store-test-{}", std::process::id()));
        let first = RunDir::create(&store, "etcd-register").unwrap();
        let second = RunDir::create(&store, "etcd-register").unwrap();
        assert_ne!(first.path, second.path, "even within the same millisecond");
        assert_eq!(std::fs::canonicalize(store.join("latest")).unwrap(), std::fs::canonicalize(&second.path).unwrap());
        second.write_json("test.json", &serde_json::json!({"seed": 7})).unwrap();
        assert!(store.join("latest/test.json").is_file());
        assert!(second.node_dir("n1").unwrap().is_dir());
        std::fs::remove_dir_all(&store).unwrap();
    }

    /// Issue 10, item 5: 12 runs started at once shared directories, and `--name ..` wrote
    /// outside the store.
    #[test]
    fn parallel_runs_get_their_own_directories_and_names_stay_inside() {
        let store = std::env::temp_dir().join(format!("faultline-store-par-{}", std::process::id()));
        let dirs: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..12).map(|_| s.spawn(|| RunDir::create(&store, "same").unwrap().path)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let distinct: std::collections::BTreeSet<&PathBuf> = dirs.iter().collect();
        assert_eq!(distinct.len(), 12, "{dirs:?}");
        for bad in ["..", "../x", "a/b", "", ".hidden", "latest"] {
            assert!(RunDir::create(&store, bad).is_err(), "{bad:?}");
        }
        std::fs::remove_dir_all(&store).unwrap();
    }
}
