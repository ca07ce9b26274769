#!/usr/bin/env bash
# Peak memory of a 1,000,000-entry upload job: a JSONL manifest of 1M keys that all point at
# one 2 KB file, uploaded to a private nginx whose files live in /dev/shm (so the server's
# writes don't compete with haul's fsyncs). Prints haul's wall time and peak RSS.
#   bash bench/upload_million.sh build-bench/haul [ENTRIES]
set -euo pipefail
haul=$(realpath "${1:?usage: upload_million.sh HAUL [ENTRIES]}")
entries=${2:-1000000}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
rundir=$(mktemp -d /dev/shm/haul-million-XXXXXX)
trap 'bash "$here/scripts/test-servers/nginx.sh" stop "$rundir" >/dev/null 2>&1 || true; rm -rf "$work" "$rundir"' EXIT

head -c 2000 /dev/urandom > "$work/one.bin"
awk -v n="$entries" 'BEGIN { for (i = 0; i < n; i++) printf "{\"key\":\"k/%07d\",\"path\":\"one.bin\"}\n", i }' \
  > "$work/entries.jsonl"
port=$(bash "$here/scripts/test-servers/nginx.sh" start "$rundir" 0 | sed -n 's/^port=\([0-9]*\).*/\1/p')
cat > "$work/jobs.toml" <<TOML
[runtime]
store = "store"
parallelism = 64
report_interval = "1h"
[[job]]
name = "million"
kind = "upload"
manifest = "entries.jsonl"
target = "http://127.0.0.1:$port/put/"
TOML
/usr/bin/time -f "$entries entries: %e s, peak RSS %M KB" "$haul" run "$work/jobs.toml" --quiet
