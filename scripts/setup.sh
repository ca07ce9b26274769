#!/usr/bin/env bash
# The README's first command: installs every dependency on Debian 12, builds haul, and runs
# a real example: an upload to a local nginx, killed halfway and resumed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target haul

# The demo: 5,000 files uploaded to a local nginx (started by the project's own script on a
# free port) whose /flaky/ location answers 10% of requests with 503 or 502. The run is
# killed with SIGKILL after a second and started again: it resumes where it stopped.
demo=build/demo
bash scripts/test-servers/nginx.sh stop "$demo/nginx" >/dev/null 2>&1 || true
rm -rf "$demo"
mkdir -p "$demo/files"
for d in $(seq 0 49); do
  mkdir -p "$demo/files/dir-$d"
  head -c $((100 * (d * 300 + 1024))) /dev/urandom |
    split -b $((d * 300 + 1024)) -d -a 3 --additional-suffix=.bin - "$demo/files/dir-$d/file-"
done
port=$(bash scripts/test-servers/nginx.sh start "$demo/nginx" 10 | sed -n 's/^port=\([0-9]*\).*/\1/p')
trap 'bash scripts/test-servers/nginx.sh stop "$demo/nginx" >/dev/null 2>&1 || true' EXIT
cat > "$demo/jobs.toml" <<EOF
[runtime]
store = "store"
parallelism = 64
max_attempts = 10

[[job]]
name = "demo-upload"
kind = "upload"
source = "files"
target = "http://127.0.0.1:$port/flaky/demo/"
EOF
echo
echo "== haul run $demo/jobs.toml (5,000 files; 10% of requests fail with 503/502; killed after 1 s)"
build/haul run "$demo/jobs.toml" &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo
echo "== haul status after the kill"
build/haul status --store "$demo/store"
echo
echo "== haul run again: resumes where it stopped"
build/haul run "$demo/jobs.toml"
echo
build/haul status --store "$demo/store"
arrived=$(find "$demo/nginx/root/flaky/demo" -type f | wc -l)
echo
echo "$arrived of 5000 files arrived at the server."
[ "$arrived" -eq 5000 ]
echo "haul is built at build/haul. Try: build/haul help run"
