//! Histories written as tables in tests: `process type f value`, one op per line, `value` as
//! JSON (or `nil`), an optional `key=K` first.

use checkers::models::ModelName;
use checkers::{CheckOptions, LinearizabilityResult};
use history::Validity;
use history::{History, Key, Op, OpType, Process};

/// Parses a table such as
/// ```text
/// 0 invoke write 1
/// 0 ok     write 1
/// ```
pub fn hist(table: &str) -> History {
    let mut ops = Vec::new();
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, line) = match line.strip_prefix("key=") {
            Some(rest) => {
                let (k, rest) = rest.split_once(' ').expect("key=K then the op");
                (Some(k.parse::<i64>().map(Key::Int).unwrap_or_else(|_| Key::Str(k.into()))), rest.trim())
            }
            None => (None, line),
        };
        let mut words = line.splitn(4, char::is_whitespace).filter(|w| !w.is_empty());
        let process: u64 = words.next().unwrap().parse().unwrap();
        let kind = match words.next().unwrap() {
            "invoke" => OpType::Invoke,
            "ok" => OpType::Ok,
            "fail" => OpType::Fail,
            "info" => OpType::Info,
            t => panic!("bad type {t}"),
        };
        let rest = line.splitn(3, char::is_whitespace).nth(2).unwrap().trim();
        let (f, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, "nil"));
        let value = value.trim();
        let value = if value == "nil" { serde_json::Value::Null } else { serde_json::from_str(value).unwrap() };
        ops.push(Op { index: 0, kind, process: Process::Client(process), f: f.to_string(), key, value, time: 0, node: None, error: None });
    }
    History::from_ops("table", ops)
}

/// Checks with default options (all keys).
pub fn check(model: ModelName, init: Option<&str>, h: &History) -> LinearizabilityResult {
    let options = CheckOptions { all_keys: true, ..CheckOptions::default() };
    let model_options = checkers::models::ModelOptions { init: init.map(checkers::model::Scalar::parse_arg), ..Default::default() };
    model.check(&model_options, h, &options).unwrap()
}

/// The verdict alone.
pub fn verdict(model: ModelName, h: &str) -> Validity {
    check(model, None, &hist(h)).valid
}
