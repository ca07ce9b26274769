#!/usr/bin/env bash
# The README's first command: installs every dependency on Debian 12, builds haul, and runs
# the real thing against servers of its own on loopback: a generated tree of 5,000 files
# uploaded to an nginx that fails 10% of requests, and a generated SQLite database exported
# as a zstd-compressed SQL dump into an S3-compatible server (s3rver), with live progress.
# The run is killed with SIGKILL partway and started again: it resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target haul

demo=build/demo
bash scripts/test-servers/nginx.sh stop "$demo/nginx" >/dev/null 2>&1 || true
bash scripts/test-servers/s3rver.sh stop "$demo/s3rver" >/dev/null 2>&1 || true
rm -rf "$demo"
mkdir -p "$demo/files"

echo "== generating the demo data in $demo"
# 50 directories of 100 files, 1 KiB to 16 KiB each.
for d in $(seq 0 49); do
  mkdir -p "$demo/files/dir-$d"
  head -c $((100 * (d * 300 + 1024))) /dev/urandom |
    split -b $((d * 300 + 1024)) -d -a 3 --additional-suffix=.bin - "$demo/files/dir-$d/file-"
done
# A database of two tables, 400,000 rows in all, about 40 MB.
sqlite3 "$demo/app.db" <<'SQL'
CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, since TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id),
                    total REAL, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com',
  date('2020-01-01', '+' || (i % 1500) || ' days') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 350000)
INSERT INTO orders SELECT i, 1 + (i * 7919) % 50000, round((i % 9973) * 1.37, 2),
  hex(randomblob(24)) FROM n;
CREATE INDEX orders_by_customer ON orders(customer);
SQL

# Stopped on any exit, also when the second fails to start.
trap 'bash scripts/test-servers/nginx.sh stop "$demo/nginx" >/dev/null 2>&1 || true
      bash scripts/test-servers/s3rver.sh stop "$demo/s3rver" >/dev/null 2>&1 || true' EXIT
nginx_port=$(bash scripts/test-servers/nginx.sh start "$demo/nginx" 10 | sed -n 's/^port=\([0-9]*\).*/\1/p')
s3_port=$(bash scripts/test-servers/s3rver.sh start "$demo/s3rver" demo-bucket | sed -n 's/^port=\([0-9]*\).*/\1/p')
# s3rver's fixed credentials, passed to haul by variable name as any secret is.
export HAUL_DEMO_ACCESS_KEY=S3RVER HAUL_DEMO_SECRET_KEY=S3RVER

cat > "$demo/jobs.toml" <<JOBS
[runtime]
store = "store"
parallelism = 64
max_attempts = 10
report_interval = "5s"

[[job]]
name = "demo-upload"
kind = "upload"
source = "files"
target = "http://127.0.0.1:$nginx_port/flaky/demo/"

[[job]]
name = "demo-export"
kind = "export"
source = "app.db"
target = "s3://demo-bucket/app.sql.zst"
compression = "zstd"

[job.s3]
endpoint = "http://127.0.0.1:$s3_port"
region = "us-east-1"
access_key_env = "HAUL_DEMO_ACCESS_KEY"
secret_key_env = "HAUL_DEMO_SECRET_KEY"
path_style = true
JOBS
build/haul validate "$demo/jobs.toml"

echo
echo "== haul run $demo/jobs.toml: 5,000 files to nginx (10% of requests fail with 503/502)"
echo "   and app.db to s3://demo-bucket/app.sql.zst; killed with SIGKILL after 1 s"
build/haul run "$demo/jobs.toml" &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo
echo "== haul status after the kill: what finished is on record"
build/haul status --store "$demo/store"
echo
echo "== haul run again: it resumes where it stopped"
build/haul run "$demo/jobs.toml"
echo
build/haul status --store "$demo/store"

arrived=$(find "$demo/nginx/root/flaky/demo" -type f | wc -l)
dump="$demo/s3rver/data/demo-bucket/app.sql.zst._S3rver_object"
echo
echo "$arrived of 5000 files arrived at nginx."
[ "$arrived" -eq 5000 ]
# The export restores to the same rows: its dump, loaded into a new database.
zstd -dc "$dump" | sqlite3 "$demo/restored.db"
differ=$(sqlite3 "$demo/restored.db" "ATTACH '$demo/app.db' AS a;
  SELECT (SELECT count(*) FROM (SELECT * FROM orders EXCEPT SELECT * FROM a.orders))
       + (SELECT count(*) FROM (SELECT * FROM customers EXCEPT SELECT * FROM a.customers))
       + abs((SELECT count(*) FROM orders) - (SELECT count(*) FROM a.orders))
       + abs((SELECT count(*) FROM customers) - (SELECT count(*) FROM a.customers));")
echo "The export ($(du -h "$dump" | cut -f1) compressed) restores to the same 400,000 rows."
[ "$differ" -eq 0 ]

echo
echo "haul is built at build/haul. Look around:"
echo "  build/haul status --store $demo/store                # every job; --watch follows a run"
echo "  build/haul inspect demo-export --store $demo/store   # one job: params, tasks, checkpoints"
echo "  HAUL_DEMO_ACCESS_KEY=S3RVER HAUL_DEMO_SECRET_KEY=S3RVER build/haul serve $demo/jobs.toml"
echo "      # then open http://127.0.0.1:8700/: the status page (and /health, /metrics, /jobs)"
echo "  build/haul help"
echo "The demo's servers are stopped now; its store and files stay in $demo."
