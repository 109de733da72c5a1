//! Every importer against mutated histories (issue 10): bytes deleted, inserted or changed,
//! lines dropped, doubled, swapped or glued together, the tail cut, a BOM added. Whatever the
//! input: no panic; and a history that reads must not have been silently shortened — every op
//! line became an op (or, in a Jepsen log, a counted chatter line), and every client op the
//! check saw is either checked or counted as left out.
//!
//! Seeded and bounded (a few thousand inputs per format), so it runs in every test run.

use checkers::models::ModelName;
use checkers::CheckOptions;
use history::import::{read_history, Format};
use history::{History, OpType, Rng};

const ROUNDS: u64 = 5000;

fn jsonl() -> String {
    let mut out = String::new();
    let mut rng = Rng::new(1);
    for i in 0..40u64 {
        let p = i % 4;
        let (f, v) = match rng.below(3) {
            0 => ("read", "null".to_string()),
            1 => ("write", rng.below(4).to_string()),
            _ => ("cas", format!("[{},{}]", rng.below(4), rng.below(4))),
        };
        out.push_str(&format!("{{\"type\":\"invoke\",\"process\":{p},\"f\":\"{f}\",\"key\":{},\"value\":{v}}}\n", i % 3));
        let kind = ["ok", "fail", "info"][rng.below(3) as usize];
        let result = if f == "read" && kind == "ok" { rng.below(4).to_string() } else { v.clone() };
        out.push_str(&format!("{{\"type\":\"{kind}\",\"process\":{p},\"f\":\"{f}\",\"key\":{},\"value\":{result}}}\n", i % 3));
        if i % 10 == 5 {
            out.push_str("{\"type\":\"info\",\"process\":\"nemesis\",\"f\":\"start-partition\",\"value\":{\"nodes\":[\"n1\"]}}\n");
        }
    }
    out
}

fn edn() -> String {
    jsonl()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let kw = |s: &serde_json::Value| format!(":{}", s.as_str().unwrap_or("x"));
            let value =
                if v["value"].is_object() { "nil".to_string() } else { v["value"].to_string().replace(',', " ").replace("null", "nil") };
            let process = if v["process"].is_string() { ":nemesis".to_string() } else { v["process"].to_string() };
            format!("{{:process {process}, :type {}, :f {}, :value {}}}", kw(&v["type"]), kw(&v["f"]), value)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn jepsen_log() -> String {
    jsonl()
        .lines()
        .filter(|l| !l.contains("nemesis"))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let value = v["value"].to_string().replace(',', " ").replace("null", "nil");
            format!("INFO  jepsen.util - {}\t:{}\t:{}\t{value}", v["process"], v["type"].as_str().unwrap(), v["f"].as_str().unwrap())
        })
        .chain(["INFO  jepsen.core - Run complete, writing".to_string()])
        .collect::<Vec<_>>()
        .join("\n")
}

/// One random change to the text.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut lines: Vec<&str> = text.lines().collect();
    let at = |rng: &mut Rng, n: usize| rng.below(n.max(1) as u64) as usize;
    match rng.below(9) {
        0 if !bytes.is_empty() => {
            let i = at(rng, bytes.len());
            let n = 1 + at(rng, 8);
            bytes.drain(i..(i + n).min(bytes.len()));
        }
        1 => {
            let i = at(rng, bytes.len() + 1);
            let junk = [b'{', b'}', b'"', b':', b',', b'\n', b'[', b' ', b'x', b'9', 0xC3, b'\\'];
            bytes.insert(i.min(bytes.len()), junk[at(rng, junk.len())]);
        }
        2 if !bytes.is_empty() => {
            let i = at(rng, bytes.len());
            bytes[i] = b"0123456789abcxyz{}[]\":,"[at(rng, 23)];
        }
        3 if !lines.is_empty() => {
            lines.remove(at(rng, lines.len()));
            return lines.join("\n") + "\n";
        }
        4 if !lines.is_empty() => {
            let i = at(rng, lines.len());
            lines.insert(i, lines[i]);
            return lines.join("\n") + "\n";
        }
        5 if lines.len() > 1 => {
            let (i, j) = (at(rng, lines.len()), at(rng, lines.len()));
            lines.swap(i, j);
            return lines.join("\n") + "\n";
        }
        6 => {
            // Glue two lines: a lost newline.
            if let Some(nl) = text.match_indices('\n').nth(at(rng, text.matches('\n').count())).map(|(i, _)| i) {
                bytes.remove(nl);
            }
        }
        7 => bytes.truncate(at(rng, bytes.len() + 1)),
        _ => bytes.splice(0..0, "\u{feff}".bytes()).for_each(drop),
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What a history that read must satisfy: nothing dropped without a word.
fn accounted(format: Format, text: &str, h: &History) {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    match format {
        Format::Jsonl => assert_eq!(h.ops.len() + usize::from(h.torn_line.is_some()), lines, "every line is an op:\n{text}"),
        Format::PorcupineEtcd => assert_eq!(h.ops.len() + h.skipped_lines.len(), lines, "every line is an op or counted chatter:\n{text}"),
        _ => {}
    }
    let Ok(r) = ModelName::CasRegister.check(&Default::default(), h, &CheckOptions { all_keys: true, ..CheckOptions::default() }) else {
        return; // a broken pairing or an op the model cannot use: an error that names it
    };
    let client = h.ops.iter().filter(|o| o.is_client()).count();
    let invokes = h.ops.iter().filter(|o| o.is_client() && o.kind == OpType::Invoke).count();
    assert_eq!(r.nemesis_ops + client, h.ops.len(), "every op is a client's or the nemesis's");
    assert_eq!(r.ops, invokes, "every invoke is an op of the check");
    assert_eq!(r.checked_ops + r.failed_ops + r.unconstrained_ops + r.unobserved_ops, r.ops, "each op is checked or counted as left out");
}

fn fuzz(format: Format, seed_text: &str) {
    let unmutated = read_history("f", seed_text, format).unwrap_or_else(|e| panic!("the seed history reads: {e}"));
    accounted(format, seed_text, &unmutated);
    let mut rng = Rng::new(0xF022 ^ format as u64);
    let (mut read, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let mut text = seed_text.to_string();
        for _ in 0..=rng.below(3) {
            text = mutate(&text, &mut rng);
        }
        let outcome = std::panic::catch_unwind(|| read_history("f", &text, format).map(|h| accounted(format, &text, &h)));
        match outcome {
            Err(_) => panic!("{format:?}, round {round}: panicked on:\n{text}"),
            Ok(Ok(())) => read += 1,
            Ok(Err(e)) => {
                refused += 1;
                assert!(e.to_string().starts_with("f"), "errors name the file: {e}");
            }
        }
    }
    // Both outcomes occur, so both were exercised.
    assert!(read > ROUNDS as usize / 20 && refused > ROUNDS as usize / 20, "{format:?}: {read} read, {refused} refused");
}

#[test]
fn jsonl_importer() {
    fuzz(Format::Jsonl, &jsonl());
}

#[test]
fn edn_importer() {
    fuzz(Format::Edn, &format!("[{}]", edn()));
    fuzz(Format::PorcupineKv, &edn());
}

#[test]
fn jepsen_log_importer() {
    fuzz(Format::PorcupineEtcd, &jepsen_log());
}
