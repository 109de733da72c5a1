//! Latency without netem (this kernel has none and cannot load modules): packets arriving at a
//! node are sent to an NFQUEUE inside its namespace, and a thread of ours holds each one for the
//! delay before accepting it. Unlike a TCP proxy, this also delays connections that were open
//! before the fault began (etcd's peers keep theirs open for the whole run).
//!
//! The consumer speaks nfnetlink directly over a netlink socket (bind, copy packet metadata only,
//! verdicts), to avoid a C library at build time. The iptables rule uses `--queue-bypass`: if the
//! consumer is gone, packets pass instead of being dropped.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use history::Rng;

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_META: u8 = 1;
const NF_ACCEPT: u32 = 1;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;

/// One netlink message: header, nfgenmsg, attributes.
fn message(kind: u16, flags: u16, queue: u16, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![libc::AF_UNSPEC as u8, 0];
    body.extend_from_slice(&queue.to_be_bytes());
    for (kind, payload) in attrs {
        body.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        body.extend_from_slice(&kind.to_ne_bytes());
        body.extend_from_slice(payload);
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let mut msg = Vec::with_capacity(16 + body.len());
    msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    msg.extend_from_slice(&(((NFNL_SUBSYS_QUEUE) << 8) | kind).to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    msg.extend_from_slice(&body);
    msg
}

/// Packet ids in a buffer of netlink messages from the queue.
fn packet_ids(buf: &[u8]) -> Vec<u32> {
    let mut ids = Vec::new();
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default()) as usize;
        let kind = u16::from_ne_bytes(buf[at + 4..at + 6].try_into().unwrap_or_default());
        if len < 16 || at + len > buf.len() {
            break;
        }
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
            let mut attr = at + 20;
            while attr + 4 <= at + len {
                let alen = u16::from_ne_bytes(buf[attr..attr + 2].try_into().unwrap_or_default()) as usize;
                let akind = u16::from_ne_bytes(buf[attr + 2..attr + 4].try_into().unwrap_or_default()) & 0x3fff;
                if alen < 4 {
                    break;
                }
                if akind == NFQA_PACKET_HDR && alen >= 8 {
                    ids.push(u32::from_be_bytes(buf[attr + 4..attr + 8].try_into().unwrap_or_default()));
                }
                attr += (alen + 3) & !3;
            }
        }
        at += (len + 3) & !3;
    }
    ids
}

struct QueueSocket {
    fd: OwnedFd,
    queue: u16,
}

impl QueueSocket {
    /// Opens and binds queue `queue` in the current thread's network namespace.
    fn bind(queue: u16) -> io::Result<QueueSocket> {
        // SAFETY: plain socket(2); the descriptor is owned right away.
        let raw = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, NETLINK_NETFILTER) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let socket = QueueSocket { fd: unsafe { OwnedFd::from_raw_fd(raw) }, queue };
        // Wake up every millisecond to release due packets even when none arrive: a packet is
        // released at most about 1 ms late.
        let timeout = libc::timeval { tv_sec: 0, tv_usec: 1_000 };
        // SAFETY: setsockopt with a correctly sized timeval.
        let set = unsafe {
            libc::setsockopt(
                raw,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &timeout as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as u32,
            )
        };
        // Without the timeout, packets would wait for the next one to arrive: refuse instead.
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        let cmd = vec![NFQNL_CFG_CMD_BIND, 0, 0, libc::AF_INET as u8];
        socket.send(&message(NFQNL_MSG_CONFIG, NLM_F_ACK, queue, &[(NFQA_CFG_CMD, cmd)]))?;
        socket.expect_ack()?;
        let mut params = 0xffffu32.to_be_bytes().to_vec();
        params.push(NFQNL_COPY_META);
        socket.send(&message(NFQNL_MSG_CONFIG, NLM_F_ACK, queue, &[(NFQA_CFG_PARAMS, params)]))?;
        socket.expect_ack()?;
        Ok(socket)
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: sending a byte buffer on our socket (to the kernel: a zeroed sockaddr_nl).
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                0,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads into `buf`; `Ok(0)` on the receive timeout.
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: reading into a buffer we own.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::ENOBUFS) => Ok(0),
                _ => Err(e),
            };
        }
        Ok(n as usize)
    }

    fn expect_ack(&self) -> io::Result<()> {
        let mut buf = vec![0u8; 8192];
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            let n = self.recv(&mut buf)?;
            if n >= 20 && u16::from_ne_bytes([buf[4], buf[5]]) == NLMSG_ERROR {
                let errno = i32::from_ne_bytes(buf[16..20].try_into().unwrap_or_default());
                return if errno == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(-errno)) };
            }
        }
        Err(io::Error::new(io::ErrorKind::TimedOut, "no answer from nfnetlink_queue"))
    }

    fn accept(&self, id: u32) -> io::Result<()> {
        let mut hdr = NF_ACCEPT.to_be_bytes().to_vec();
        hdr.extend_from_slice(&id.to_be_bytes());
        self.send(&message(NFQNL_MSG_VERDICT, 0, self.queue, &[(NFQA_VERDICT_HDR, hdr)]))
    }
}

/// A running delay on one node's incoming packets. Stop it with [`Delay::stop`] (dropping it
/// does the same) after removing the iptables rule; packets still held are released at once.
pub struct Delay {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<u64>>>,
}

impl Delay {
    /// Starts a consumer of queue `queue` inside `namespace` that holds each packet for `delay`
    /// plus up to `jitter` (never reordering them). Returns once the queue is bound, so that the
    /// caller can then add the rule that feeds it.
    pub fn start(namespace: &str, queue: u16, delay: Duration, jitter: Duration, seed: u64) -> io::Result<Delay> {
        let netns = File::open(format!("/run/netns/{namespace}"))?;
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || -> io::Result<u64> {
            // This thread alone moves into the node's namespace; its socket stays there.
            if let Err(e) = nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET) {
                let _ = ready_tx.send(Err(io::Error::other(e)));
                return Ok(0);
            }
            let socket = match QueueSocket::bind(queue) {
                Ok(s) => {
                    let _ = ready_tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return Ok(0);
                }
            };
            let mut rng = Rng::new(seed);
            let mut held: VecDeque<(Instant, u32)> = VecDeque::new();
            let mut buf = vec![0u8; 1 << 16];
            let mut delayed = 0u64;
            while flag.load(Ordering::Relaxed) {
                let n = socket.recv(&mut buf)?;
                let now = Instant::now();
                for id in packet_ids(&buf[..n]) {
                    let extra = if jitter.is_zero() { Duration::ZERO } else { jitter.mul_f64(rng.below(1000) as f64 / 1000.0) };
                    let due = (now + delay + extra).max(held.back().map_or(now, |(t, _)| *t));
                    held.push_back((due, id));
                    delayed += 1;
                }
                while held.front().is_some_and(|(due, _)| *due <= Instant::now()) {
                    if let Some((_, id)) = held.pop_front() {
                        socket.accept(id)?;
                    }
                }
            }
            for (_, id) in held {
                socket.accept(id)?;
            }
            Ok(delayed)
        });
        match ready_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(Delay { running, thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "the queue consumer did not start")),
        }
    }

    /// Releases every held packet and ends the consumer; returns how many packets it delayed.
    pub fn stop(mut self) -> io::Result<u64> {
        self.finish()
    }

    fn finish(&mut self) -> io::Result<u64> {
        self.running.store(false, Ordering::Relaxed);
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| io::Error::other("queue consumer panicked"))?,
            None => Ok(0),
        }
    }
}

impl Drop for Delay {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_framed_and_packet_ids_parsed() {
        let m = message(NFQNL_MSG_VERDICT, 0, 7, &[(NFQA_VERDICT_HDR, vec![0, 0, 0, 1, 0, 0, 0, 42])]);
        assert_eq!(m.len(), 16 + 4 + 12);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()) as usize, m.len());
        assert_eq!(&m[18..20], &7u16.to_be_bytes(), "queue number, big-endian");
        // A packet message looks like a verdict message with a packet header attribute.
        let mut p = message(NFQNL_MSG_PACKET, 0, 0, &[(NFQA_PACKET_HDR, vec![0, 0, 1, 2, 0x08, 0x00, 1, 0])]);
        p.extend(message(NFQNL_MSG_PACKET, 0, 0, &[(NFQA_PACKET_HDR, vec![0, 0, 0, 9, 0x08, 0x00, 1, 0])]));
        assert_eq!(packet_ids(&p), vec![258, 9]);
        assert_eq!(packet_ids(&p[..10]), Vec::<u32>::new(), "a truncated buffer yields nothing");
    }
}
