//! Run directories.

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

impl RunDir {
    /// Creates `store/<test_name>/<timestamp>/` (and `nodes/`), and points `store/latest` and
    /// `store/<test_name>/latest` at it.
    pub fn create(store: &Path, test_name: &str) -> io::Result<RunDir> {
        let now = chrono::Utc::now();
        let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let path = store.join(test_name).join(&stamp);
        std::fs::create_dir_all(path.join("nodes"))?;
        relink(&store.join("latest"), &Path::new(test_name).join(&stamp))?;
        relink(&store.join(test_name).join("latest"), Path::new(&stamp))?;
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

/// Replaces the symlink `link` so that it points at `target`, atomically.
fn relink(link: &Path, target: &Path) -> io::Result<()> {
    let tmp = link.with_extension(format!("tmp{}", std::process::id()));
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
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = RunDir::create(&store, "etcd-register").unwrap();
        assert_ne!(first.path, second.path);
        assert_eq!(std::fs::canonicalize(store.join("latest")).unwrap(), std::fs::canonicalize(&second.path).unwrap());
        second.write_json("test.json", &serde_json::json!({"seed": 7})).unwrap();
        assert!(store.join("latest/test.json").is_file());
        assert!(second.node_dir("n1").unwrap().is_dir());
        std::fs::remove_dir_all(&store).unwrap();
    }
}
