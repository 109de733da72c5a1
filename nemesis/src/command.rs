//! Running system commands (`ip`, `iptables`) as argument vectors, with errors that say which
//! command failed and what it printed.

use std::process::Command;

/// A system command that could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program is not installed (or not on PATH).
    #[error("`{program}` is not installed: {hint}")]
    Missing {
        /// The program.
        program: String,
        /// How to install it.
        hint: String,
    },
    /// It ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line, for the reader (it was run as an argument vector).
        command: String,
        /// Exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// It could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
}

/// How to install the programs faultline runs.
pub fn install_hint(program: &str) -> String {
    let package = match program {
        "ip" => "iproute2",
        "iptables" => "iptables",
        "etcd" => "etcd-server",
        other => other,
    };
    format!("install it with `apt-get install -y {package}`")
}

/// Runs `program args…`; returns stdout. Lines of stderr that start with `#` (iptables-nft's
/// legacy-tables warning) are not errors.
pub fn run(program: &str, args: &[&str]) -> Result<String, CommandError> {
    let command = std::iter::once(program).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
    let output = Command::new(program).args(args).output().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            CommandError::Missing { program: program.to_string(), hint: install_hint(program) }
        } else {
            CommandError::Spawn { command: command.clone(), source }
        }
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
        return Err(CommandError::Failed { command, status: output.status.to_string(), stderr });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `program` can be found on PATH.
pub fn installed(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let candidate = dir.join(program);
            candidate.is_file()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_missing_programs_and_failures() {
        let e = run("faultline-no-such-program", &[]).unwrap_err();
        assert!(matches!(e, CommandError::Missing { .. }), "{e}");
        let e = run("sh", &["-c", "echo '# warning' >&2; echo bad >&2; exit 3"]).unwrap_err();
        match e {
            CommandError::Failed { stderr, status, .. } => {
                assert_eq!(stderr, "bad", "the `#` warning line is not part of the error");
                assert!(status.contains('3'), "{status}");
            }
            other => panic!("{other}"),
        }
        assert_eq!(run("echo", &["a b", "c"]).unwrap(), "a b c\n", "arguments are passed as they are");
        assert!(installed("sh"));
        assert!(!installed("faultline-no-such-program"));
    }
}
