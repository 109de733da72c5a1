//! The workspace's crates depend on each other one way only (DESIGN.md): `history` on nothing
//! of ours, `checkers` only on `history`, `nemesis` neither on `checkers` nor on `targets`, and
//! so on. Read from each crate's Cargo.toml, so a new edge fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// The workspace crates each crate's `[dependencies]` names by path.
fn internal_dependencies(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && line.contains("path = \"../") {
            found.push(line.split('=').next().unwrap_or("").trim().to_string());
        }
    }
    found.sort();
    found
}

#[test]
fn crate_dependencies_point_one_way() {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("history", &[][..]),
        ("checkers", &["history"][..]),
        ("workloads", &["checkers", "history"][..]),
        ("targets", &["history", "workloads"][..]),
        ("nemesis", &["history"][..]),
        ("results", &["checkers", "history"][..]),
        ("report", &["checkers", "history", "results"][..]),
        ("harness", &["checkers", "history", "nemesis", "report", "results", "targets", "workloads"][..]),
    ]);
    for (krate, expected) in &allowed {
        let actual = internal_dependencies(krate);
        let extra: Vec<&String> = actual.iter().filter(|d| !expected.contains(&d.as_str())).collect();
        assert!(extra.is_empty(), "{krate} must not depend on {extra:?} (it depends on {actual:?})");
    }
    // Every workspace member is covered.
    let workspace = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml")).unwrap();
    for krate in allowed.keys() {
        assert!(workspace.contains(&format!("\"{krate}\"")), "{krate} is a member");
    }
}
