#!/usr/bin/env bash
# make bench-compare: install the pinned peers (kinesalite and kinesis-local,
# the npm build of kinesis-mock) from npm into a temporary directory, then
# run the same scenarios against Riffle, the ceiling server and both peers,
# one at a time, and append the comparison to docs/benchmarks.md.
#
# Usage: scripts/bench-compare.sh [riffle bench flags, e.g. --quick]
set -euo pipefail

KINESALITE_VERSION=3.3.3
KINESIS_LOCAL_VERSION=0.6.2

cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "bench-compare: node (and npm) are needed for the peers" >&2; exit 1; }
peers=$(mktemp -d -t riffle-peers-XXXXXX)
trap 'rm -rf "$peers"' EXIT
echo "installing kinesalite@$KINESALITE_VERSION and kinesis-local@$KINESIS_LOCAL_VERSION into $peers" >&2
(cd "$peers" && npm init -y >/dev/null && \
  npm install --no-audit --no-fund --loglevel=error \
    "kinesalite@$KINESALITE_VERSION" "kinesis-local@$KINESIS_LOCAL_VERSION" >&2)
./bin/riffle bench --compare --peers "$peers" --out docs/benchmarks.md "$@"
