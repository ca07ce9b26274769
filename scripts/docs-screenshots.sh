#!/usr/bin/env bash
# Makes docs/progress-terminal.png and docs/status-page.png again from real runs: `haul run`
# in a tmux terminal, captured partway and drawn by Debian's Chromium, and the status page as
# its end-to-end test leaves it. Needs what scripts/setup.sh and scripts/test.sh install,
# and tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "docs-screenshots: needs tmux (apt-get install tmux)" >&2; exit 1; }
[ -x build/haul ] || { echo "docs-screenshots: build haul first (bash scripts/setup.sh)" >&2; exit 1; }
haul=$PWD/build/haul
work=$(mktemp -d)
session=haul-docs-$$
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
      tmux kill-session -t "$session" 2>/dev/null || true
      bash scripts/test-servers/nginx.sh stop "$work/nginx" >/dev/null 2>&1 || true
      rm -rf "$work"' EXIT

mkdir -p "$work/files"
for d in $(seq 0 29); do
  mkdir -p "$work/files/dir-$d"
  head -c $((100 * (d * 500 + 2048))) /dev/urandom |
    split -b $((d * 500 + 2048)) -d -a 3 --additional-suffix=.bin - "$work/files/dir-$d/file-"
done
sqlite3 "$work/app.db" "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200000)
  INSERT INTO t SELECT i, hex(randomblob(40)) FROM n;"
port=$(bash scripts/test-servers/nginx.sh start "$work/nginx" 10 | sed -n 's/^port=\([0-9]*\).*/\1/p')
cat > "$work/jobs.toml" <<JOBS
[runtime]
store = "store"
parallelism = 16

[[job]]
name = "site-assets"
kind = "upload"
source = "files"
target = "http://127.0.0.1:$port/flaky/assets/"
parallelism = 6

[[job]]
name = "nightly-export"
kind = "export"
source = "app.db"
target = "file://$work/app.sql.gz"
compression = "gzip"
part_size = "5MiB"

[[job]]
name = "thumbnails"
kind = "noop"
tasks = 4000
sleep_ms = 4
parallelism = 8
JOBS

tmux new-session -d -s "$session" -x 128 -y 5 \
  "cd '$work' && LANG=C.UTF-8 '$haul' run jobs.toml; sleep 60"
sleep 2.5
tmux capture-pane -p -t "$session" > "$work/screen.txt"
python3 - "$work/screen.txt" "$work/screen.html" <<'PY'
import html, sys
text = open(sys.argv[1], encoding="utf-8").read().rstrip("\n")
page = ("<!doctype html><meta charset=utf-8><style>body{margin:0;background:#1e1f24}"
        "pre{margin:0;padding:14px 18px;color:#e6e6e6;font:15px/1.45 'DejaVu Sans Mono',"
        "monospace}</style><pre>$ haul run jobs.toml\n" + html.escape(text) + "</pre>")
open(sys.argv[2], "w", encoding="utf-8").write(page)
PY
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chromium" --hide-scrollbars --window-size=1180,150 \
  --screenshot="$PWD/docs/progress-terminal.png" "file://$work/screen.html" 2>/dev/null
echo "docs/progress-terminal.png:"
cat "$work/screen.txt"

tmux kill-session -t "$session"

# The status page, over the same data run slower, with a job that has failures.
sed -e 's/^store = "store"/store = "serve-store"/' -e 's/^parallelism = 6$/parallelism = 2/' \
  -e 's/^sleep_ms = 4$/sleep_ms = 40/' "$work/jobs.toml" > "$work/serve.toml"
cat >> "$work/serve.toml" <<JOBS

[[job]]
name = "reindex"
kind = "noop"
tasks = 600
sleep_ms = 30
fail_every = 40
parallelism = 4
JOBS
"$haul" serve "$work/serve.toml" --listen 127.0.0.1:0 2> "$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do
  url=$(sed -n 's/.*listening on \(http:[^ ]*\)$/\1/p' "$work/serve.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.log" >&2; exit 1; }
sleep 4
node tests/e2e/page_screenshot.mjs "$url/" "$PWD/docs/status-page.png" 1100 700
kill -TERM "$serve_pid"
wait "$serve_pid" || true
serve_pid=
echo "docs/status-page.png: $url/ of haul serve"
