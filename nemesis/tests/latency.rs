//! Latency through the NFQUEUE consumer, measured: round trips to a TCP echo server inside a
//! node's namespace, before, during and after a 50 ms delay on the node's incoming packets.
//! Needs root and iptables.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use nemesis::latency::Delay;
use nemesis::{iptables, ClusterNet, RunId};

fn can_run() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")));
    let ok = root && nemesis::command::installed("iptables");
    if !ok {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "latency test cannot run under CI: needs root and iptables");
        eprintln!("SKIPPED: the latency test needs root and iptables");
    }
    ok
}

/// An echo server listening inside `namespace` (a thread that enters it, binds, and serves).
fn echo_server(namespace: &str, ip: std::net::Ipv4Addr) {
    let netns = std::fs::File::open(format!("/run/netns/{namespace}")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let listener = TcpListener::bind((ip, 7000)).unwrap();
        tx.send(()).unwrap();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            std::thread::spawn(move || {
                let mut b = [0u8; 64];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 || s.write_all(&b[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
}

/// Median round trip of a 1-byte echo over one established connection.
fn median_rtt(stream: &mut TcpStream) -> Duration {
    let mut rtts: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            stream.write_all(b"x").unwrap();
            let mut b = [0u8; 1];
            stream.read_exact(&mut b).unwrap();
            t.elapsed()
        })
        .collect();
    rtts.sort();
    rtts[rtts.len() / 2]
}

#[test]
fn a_delay_slows_even_an_already_open_connection_by_the_amount_asked() {
    if !can_run() {
        return;
    }
    let net = ClusterNet::create(RunId::fresh(), 1).unwrap();
    let node = &net.nodes[0];
    iptables::install(&node.namespace).unwrap();
    echo_server(&node.namespace, node.ip);
    // One connection, opened before the fault and kept through it.
    let mut stream = TcpStream::connect((node.ip, 7000)).unwrap();
    stream.set_nodelay(true).unwrap();
    let before = median_rtt(&mut stream);

    let delay = Delay::start(&node.namespace, 0, Duration::from_millis(50), Duration::ZERO, 1).unwrap();
    iptables::queue(&node.namespace, 0).unwrap();
    let during = median_rtt(&mut stream);

    iptables::heal(&node.namespace).unwrap();
    let delayed = delay.stop().unwrap();
    let after = median_rtt(&mut stream);
    eprintln!("round trip: before {before:?}, with a 50 ms delay {during:?}, after {after:?}; {delayed} packets delayed");

    assert!(before < Duration::from_millis(10), "{before:?}");
    // Only packets into the node are held, so a round trip gains the delay once.
    assert!(during >= Duration::from_millis(50) && during < Duration::from_millis(80), "{during:?}");
    assert!(after < Duration::from_millis(10), "{after:?}");
    assert!(delayed >= 15, "{delayed}");
}
