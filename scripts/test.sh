#!/usr/bin/env bash
# Runs every test of the workspace: unit, property, integration and CLI tests, and a smoke run
# of the benchmark and examples. Installs what the tests need first (nothing beyond Rust yet:
# the checker is pure Rust; the cluster tests that need root, iproute2 and iptables will add
# their packages here).
set -euo pipefail
cd "$(dirname "$0")/.."

# Labelled histories (not ours to commit) live beside the project in ../shared/data.
if [ -z "${FAULTLINE_DATA:-}" ] && [ -d ../shared/data ]; then
    export FAULTLINE_DATA="$(cd ../shared/data && pwd)"
fi

cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
