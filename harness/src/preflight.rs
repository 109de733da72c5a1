//! What a run needs from the machine, checked after the configuration and before anything is
//! created: root, the programs (ip, iptables, the target's, libfaketime for clock faults), and
//! their Debian packages, installed with apt-get when missing (saying so) unless told not to.

use std::path::Path;

use nemesis::command::installed;
use nemesis::faults::ClockStrategy;
use nemesis::FaultKind;

use crate::config::Plan;
use crate::run::{EventSink, RunError, RunEvent};

/// A program and the package that provides it.
struct Missing {
    what: String,
    package: String,
}

/// Checks the machine for `plan`, installing what is missing when allowed.
pub fn prepare(plan: &Plan, sink: &mut dyn EventSink) -> Result<(), RunError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(RunError::environment(
            "faultline test needs root: it creates network namespaces and iptables rules (run it as root, e.g. with sudo)",
        ));
    }
    let mut missing: Vec<Missing> = Vec::new();
    for (tool, package) in [("ip", "iproute2"), ("iptables", "iptables")] {
        if !installed(tool) {
            missing.push(Missing { what: format!("`{tool}`"), package: package.into() });
        }
    }
    for req in plan.db.requirements() {
        let present = installed(&req.program) || Path::new(&req.program).is_file();
        if present {
            continue;
        }
        // A path given explicitly (--etcd-binary /x/etcd) is the user's: never installed.
        match &req.package {
            Some(package) if !req.program.contains('/') => {
                missing.push(Missing { what: format!("`{}`", req.program), package: package.clone() })
            }
            _ => return Err(RunError::environment(format!("the {} binary `{}` does not exist", plan.db.name(), req.program))),
        }
    }
    let kinds = plan.config.fault_kinds().map_err(RunError::Config)?;
    if kinds.contains(&FaultKind::Clock)
        && plan.config.clock_strategy == ClockStrategy::Faketime
        && !Path::new(nemesis::clock::LIBFAKETIME).exists()
    {
        missing.push(Missing { what: "libfaketime".into(), package: "libfaketime".into() });
    }
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<String> = missing.iter().map(|m| m.package.clone()).collect();
    if plan.config.no_install || !installed("apt-get") {
        return Err(RunError::environment(format!(
            "{} is not installed: install it with `apt-get install -y {}`",
            missing[0].what,
            packages.join(" ")
        )));
    }
    let _ = sink.event(&RunEvent::Installing { packages: &packages });
    install(&packages)
}

fn install(packages: &[String]) -> Result<(), RunError> {
    let apt = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut args = vec!["install", "-y", "-q"];
    args.extend(packages.iter().map(String::as_str));
    if apt(&args) || (apt(&["update", "-q"]) && apt(&args)) {
        return Ok(());
    }
    Err(RunError::environment(format!(
        "could not install {0}: run `apt-get update && apt-get install -y {0}` and try again",
        packages.join(" ")
    )))
}
