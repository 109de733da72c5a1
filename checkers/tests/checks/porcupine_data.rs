//! Every labelled history in ../shared/data/porcupine gets the verdict EXPECTED.md gives.
//! The data is not ours to commit: it is read from `FAULTLINE_DATA` (or ../shared/data beside
//! the project). Under CI a missing folder fails the test; elsewhere the test says it skipped.

use std::path::PathBuf;

use checkers::models::ModelName;
use checkers::CheckOptions;
use history::import::{read_history, Format};
use history::Validity;

fn data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FAULTLINE_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    let dir = dir.join("porcupine");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("labelled data missing at {} (set FAULTLINE_DATA)", dir.display());
    }
    eprintln!("SKIPPED: labelled data not found at {} (set FAULTLINE_DATA to run these tests)", dir.display());
    None
}

fn check_file(path: &PathBuf, format: Format, model: ModelName) -> Validity {
    let text = std::fs::read_to_string(path).unwrap();
    let history = read_history(&path.display().to_string(), &text, format).unwrap();
    let options = CheckOptions { all_keys: true, ..CheckOptions::default() };
    model.check(&Default::default(), &history, &options).unwrap().valid
}

#[test]
fn etcd_histories_get_their_labels() {
    let Some(dir) = data_dir() else { return };
    // From EXPECTED.md: these are linearizable, every other etcd file is not.
    let valid = [2, 5, 7, 18, 25, 31, 38, 45, 48, 49];
    let mut seen = 0;
    for n in 0..50 {
        let path = dir.join(format!("etcd/etcd_{n:03}.log"));
        let expected = if valid.contains(&n) { Validity::Valid } else { Validity::Invalid };
        assert_eq!(check_file(&path, Format::PorcupineEtcd, ModelName::CasRegister), expected, "{}", path.display());
        seen += 1;
    }
    assert_eq!(seen, 50);
}

#[test]
fn kv_histories_get_their_labels() {
    let Some(dir) = data_dir() else { return };
    for clients in ["01", "10", "50"] {
        for (label, expected) in [("ok", Validity::Valid), ("bad", Validity::Invalid)] {
            let path = dir.join(format!("kv/c{clients}-{label}.txt"));
            assert_eq!(check_file(&path, Format::PorcupineKv, ModelName::Kv), expected, "{}", path.display());
        }
    }
}

#[test]
fn format_detection_finds_both_porcupine_formats() {
    let Some(dir) = data_dir() else { return };
    for (file, format) in [("etcd/etcd_002.log", Format::PorcupineEtcd), ("kv/c10-ok.txt", Format::PorcupineKv)] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(Format::detect(&path.display().to_string(), &text), Some(format), "{file}");
    }
}
