//! Writes a synthetic linearizable history as JSONL, for trying and timing `faultline check`:
//!
//! ```text
//! cargo run --release -p checkers --example synth -- kv 1000000 20 1000 0.01 /tmp/kv.jsonl
//! ```
//! Arguments: workload ops clients keys info-rate file [seed] [info-lag]. The workload
//! `list-append` writes a strictly serializable list-append history (KEYS is ignored: keys
//! rotate) of OPS transactions, for `faultline check --checker elle`.

use checkers::synth::{generate, Spec, Workload};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        eprintln!("usage: synth WORKLOAD OPS CLIENTS KEYS INFO_RATE FILE [SEED] [INFO_LAG]");
        eprintln!("  WORKLOAD: register cas-register kv multi-register mutex counter set fifo list-append");
        std::process::exit(254);
    }
    let workload = match args[0].as_str() {
        "register" => Workload::Register,
        "cas-register" => Workload::CasRegister,
        "kv" => Workload::Kv,
        "multi-register" => Workload::MultiRegister,
        "mutex" => Workload::Mutex,
        "counter" => Workload::Counter,
        "set" => Workload::Set,
        "fifo" => Workload::Fifo,
        "list-append" => Workload::Register, // not a linearizable object: written below
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(254);
        }
    };
    let number = |i: usize, what: &str| -> f64 {
        args[i].parse().unwrap_or_else(|_| {
            eprintln!("{what}: `{}` is not a number", args[i]);
            std::process::exit(254)
        })
    };
    let spec = Spec {
        workload,
        ops: number(1, "OPS") as usize,
        clients: number(2, "CLIENTS") as usize,
        keys: number(3, "KEYS") as usize,
        info_rate: number(4, "INFO_RATE"),
        values: if workload == Workload::Kv { 1_000_000 } else { 5 },
        seed: args.get(6).and_then(|s| s.parse().ok()).unwrap_or(1),
        info_lag: args.get(7).and_then(|s| s.parse().ok()).unwrap_or(100),
    };
    let history = if args[0] == "list-append" {
        checkers::synth::list_append(spec.ops, spec.clients, spec.info_rate, spec.seed)
    } else {
        generate(&spec)
    };
    let file = std::fs::File::create(&args[5]).unwrap_or_else(|e| {
        eprintln!("{}: {e}", args[5]);
        std::process::exit(254)
    });
    if let Err(e) = history.write_jsonl(std::io::BufWriter::new(file)) {
        eprintln!("{}: {e}", args[5]);
        std::process::exit(255);
    }
    eprintln!("wrote {} history entries to {}", history.ops.len(), args[5]);
}
