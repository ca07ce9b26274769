#!/usr/bin/env bash
# The README's first command: installs every dependency on Debian 12, builds haul, and runs
# a real example job file (then kills it halfway and resumes it, to show what haul is for).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target haul

store=build/demo-store
rm -rf "$store"
echo
echo "== haul run examples/jobs.toml (killed with SIGKILL after 1 s)"
build/haul run examples/jobs.toml --store "$store" &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo
echo "== haul status after the kill"
build/haul status --store "$store"
echo
echo "== haul run again: resumes where it stopped"
build/haul run examples/jobs.toml --store "$store"
echo
build/haul status --store "$store"
echo
echo "haul is built at build/haul. Try: build/haul help run"
