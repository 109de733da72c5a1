//! The report reads runs only through their types (`results::TestRecord`, `RunRecord`,
//! `checkers::CheckResult`): no field of test.json or results.json is looked up by string, so a
//! renamed field is a compile error here, not a silently empty report.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_json_field_is_looked_up_by_string() {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() >= 5, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            // `value["field"]` (an index right after a name or a bracket, not an array literal)
            // and `value.get("field")` on a serde_json::Value.
            let indexed = line
                .match_indices("[\"")
                .any(|(at, _)| line[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ')' || c == ']'));
            if indexed || line.contains(".get(\"") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "string lookups in the report:\n{}", found.join("\n"));
}
