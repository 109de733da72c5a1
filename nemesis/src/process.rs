//! A node's process: started inside its namespace (`ip netns exec` execs the program, so the PID
//! we hold is the node's), in its own process group (a Ctrl-C at the terminal reaches the
//! harness, which then stops the nodes itself), output to a log file. Killed by PID with
//! SIGKILL and reaped; dropping it does the same.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A running (or exited) node process that we started and will reap.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl NodeProcess {
    /// Starts `program args…` inside `namespace`, appending its stdout and stderr to `log`.
    pub fn spawn(namespace: &str, program: &str, args: &[String], envs: &[(String, String)], log: &Path) -> std::io::Result<NodeProcess> {
        let out = File::options().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let mut command = Command::new("ip");
        command.args(["netns", "exec", namespace, program]).args(args);
        command.envs(envs.iter().map(|(k, v)| (k, v)));
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn()?;
        Ok(NodeProcess { child, log: log.to_path_buf(), exited: None })
    }

    /// The node's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once it has exited (reaping it).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// SIGKILL by PID, then reap. Does nothing if it already exited.
    pub fn kill(&mut self) {
        if self.exited().is_some() {
            return;
        }
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        self.exited = self.child.wait().ok();
    }

    /// Sends `signal` (a polite stop; see [`NodeProcess::kill`] for the other kind).
    pub fn signal(&mut self, signal: Signal) -> nix::Result<()> {
        if self.exited().is_some() {
            return Ok(());
        }
        kill(Pid::from_raw(self.child.id() as i32), signal)
    }

    /// SIGSTOP: the process stays, frozen.
    pub fn pause(&mut self) -> nix::Result<()> {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGSTOP)
    }

    /// SIGCONT.
    pub fn resume(&mut self) -> nix::Result<()> {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGCONT)
    }

    /// The last `lines` lines of its log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // A paused process cannot die until it is continued… SIGKILL works on stopped processes,
        // but resume first anyway so that nothing is left frozen if the kill is refused.
        let _ = self.resume();
        self.kill();
    }
}

/// The last `lines` lines of a file (empty if it cannot be read).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
