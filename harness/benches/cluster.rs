//! `cargo bench -p harness` (as root, with etcd-server): how fast a cluster starts and stops,
//! and whether the harness keeps up with the cluster: ops/s that `faultline test`'s workers
//! drive and record, against a plain HTTP loop doing the same operations against the same
//! cluster, with 10 and 50 clients.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::cluster::Cluster;
use harness::workers::{drive, Counters, Recorder, Stop, Worker};
use history::Rng;
use nemesis::RunId;
use results::HistoryFile;
use targets::etcd::Etcd;
use targets::{ClientOptions, Db};
use workloads::generator::{rotate_keys, time_limit, Context, Next};
use workloads::{Invocation, Workload, WorkloadKind, WorkloadOptions};

const RUN: Duration = Duration::from_secs(8);
const TIMEOUT: Duration = Duration::from_secs(1);

fn etcd() -> Etcd {
    Etcd { binary: "etcd".into(), serializable_reads: false, lock_ttl: 2 }
}

fn register() -> Box<dyn Workload> {
    WorkloadKind::Register.build(&WorkloadOptions { ops_per_key: 100 })
}

async fn start(nodes: usize, dir: &std::path::Path) -> (Cluster, Etcd, Duration) {
    let db = etcd();
    let mut cluster = Cluster::create(RunId::fresh(), nodes, dir).expect("cluster network");
    let took = cluster.start_all(&db, Duration::from_secs(30), || false).await.expect("cluster starts");
    (cluster, db, took)
}

/// The same operations the register workload makes, drawn up front.
fn operations(n: usize, seed: u64) -> Vec<Invocation> {
    let mut rng = Rng::new(seed);
    let mut gen = rotate_keys(100, workloads::register::operations());
    (0..n)
        .map(|_| match gen.next(&Context { elapsed: Duration::ZERO, worker: 0 }, &mut rng) {
            Next::Op(op) => op,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// Clients calling etcd in a loop, recording nothing.
async fn plain_loop(cluster: &Cluster, db: &Etcd, clients: usize) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(operations(1000, 1));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let mut client =
            db.client(register().as_ref(), &cluster.nodes[i % cluster.nodes.len()], &ClientOptions { timeout: TIMEOUT }).unwrap();
        let (done, stop, ops) = (done.clone(), stop.clone(), ops.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = i * 37;
            while !stop.load(Ordering::Relaxed) {
                let _ = client.invoke(&ops[k % ops.len()]).await;
                done.fetch_add(1, Ordering::Relaxed);
                k += 1;
            }
        }));
    }
    let t = Instant::now();
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    let n = done.load(Ordering::Relaxed);
    let elapsed = t.elapsed();
    for task in tasks {
        let _ = task.await;
    }
    n as f64 / elapsed.as_secs_f64()
}

/// The harness's workers: shared seeded generator, every op recorded and written to disk
/// (flushed every second, as a run does), counters.
async fn harness_loop(cluster: &Cluster, db: &Etcd, clients: usize, dir: &std::path::Path) -> f64 {
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let node = &cluster.nodes[i % cluster.nodes.len()];
            Worker { client: db.client(register().as_ref(), node, &ClientOptions { timeout: TIMEOUT }).unwrap(), node: node.name.clone() }
        })
        .collect();
    let path = dir.join(format!("bench-history-{clients}.jsonl"));
    let _ = std::fs::remove_file(&path);
    let mut file = HistoryFile::create(&path).unwrap();
    let start = Instant::now();
    let (recorder, mut rx) = Recorder::new(start);
    let recorder = Arc::new(recorder);
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                op = rx.recv() => match op {
                    Some(op) => file.append(&op).unwrap(),
                    None => break,
                },
                _ = tick.tick() => file.flush().unwrap(),
            }
        }
        file.flush().unwrap();
    });
    let counters = Arc::new(Counters::default());
    let generator = time_limit(RUN, register().generator());
    drive(workers, generator, 1, recorder.clone(), counters.clone(), Arc::new(Stop::default()), TIMEOUT * 2).await;
    let elapsed = start.elapsed();
    drop(recorder);
    let _ = writer.await;
    let n = counters.ok.load(Ordering::Relaxed) + counters.fail.load(Ordering::Relaxed) + counters.info.load(Ordering::Relaxed);
    n as f64 / elapsed.as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("cluster benchmark: run it with `cargo bench -p harness` (as root, with etcd-server)");
        return;
    }
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")));
    if !root || !nemesis::command::installed("etcd") {
        println!("SKIPPED: the cluster benchmark needs root and etcd-server");
        return;
    }
    let dir = std::env::temp_dir().join(format!("faultline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        println!("cluster start (all nodes ready) and teardown, etcd, 3 runs each:");
        for nodes in [3, 5] {
            let mut starts = Vec::new();
            let mut stops = Vec::new();
            for _ in 0..3 {
                let (mut cluster, _db, took) = start(nodes, &dir).await;
                starts.push(took.as_secs_f64());
                let (stop, problems) = cluster.teardown();
                assert!(problems.is_empty(), "{problems:?}");
                stops.push(stop.as_secs_f64());
            }
            println!("  {nodes} nodes: start {:.2?} s, teardown {:.2?} s", starts, stops);
        }
        println!("throughput against a 5-node etcd cluster, {} s each, same operation mix (register: read/write/cas):", RUN.as_secs());
        let (mut cluster, db, _) = start(5, &dir).await;
        for clients in [10, 50] {
            let plain = plain_loop(&cluster, &db, clients).await;
            let driven = harness_loop(&cluster, &db, clients, &dir).await;
            println!(
                "  {clients:>2} clients: plain HTTP loop {plain:>7.0} ops/s, harness (generator + history) {driven:>7.0} ops/s = {:.0} %",
                100.0 * driven / plain
            );
        }
        cluster.teardown();
    });
    let _ = std::fs::remove_dir_all(&dir);
}
