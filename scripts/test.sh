#!/usr/bin/env bash
# Runs every test of the workspace: unit, property, integration, CLI and real-cluster tests, and
# a smoke run of the benchmarks and examples.
#
# The cluster tests need root, iproute2, iptables, etcd-server, redis-server, redis-sentinel and
# libfaketime, and the report's
# browser test needs chromium; as root, this script installs whichever of them is missing (and
# says so). Not as root, those tests say they skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v iptables >/dev/null || missing+=(iptables)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(libfaketime)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "scripts/test.sh: installing ${missing[*]} (needed by the cluster and browser tests)"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    else
        echo "scripts/test.sh: ${missing[*]} missing and not root: the tests that need them will skip"
    fi
fi

# Labelled histories (not ours to commit) live beside the project in ../shared/data.
if [ -z "${FAULTLINE_DATA:-}" ] && [ -d ../shared/data ]; then
    export FAULTLINE_DATA="$(cd ../shared/data && pwd)"
fi

cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
