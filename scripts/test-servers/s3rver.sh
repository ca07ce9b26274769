#!/usr/bin/env bash
# A private S3-compatible server (npm s3rver, pinned in package-lock.json) on 127.0.0.1 for
# upload integration tests and benchmarks; see README.md.
#
#   s3rver.sh start RUNDIR [BUCKET...]   prints one line: port=N pid=P (default bucket haul-test)
#   s3rver.sh stop RUNDIR
#
# Objects land in RUNDIR/data, s3rver's own log in RUNDIR/s3rver.log, one line per request
# ("METHOD URI STATUS LENGTH", as the test nginx writes) in RUNDIR/access.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

usage() {
  echo "usage: s3rver.sh start RUNDIR [BUCKET...] | s3rver.sh stop RUNDIR" >&2
  exit 2
}

# What the command line of RUNDIR's s3rver contains (is_ours in lib.sh): a pid file that
# outlived its process (a reboot, a killed start) may name an unrelated process by now.
s3rver_of() {
  echo "s3rver-logged.js --directory $1/data "
}

# stop_s3rver PID RUNDIR: TERM (s3rver-logged.js exits on it); one process, so KILL needs no group.
stop_s3rver() {
  local pid=$1 rundir=$2
  stop_pid "$pid" "$(s3rver_of "$rundir")" TERM "$pid" "the s3rver of $rundir"
}

# npm ci only when node_modules is missing or older than the lock file. The lock (on the
# committed lock file, which npm ci only reads) keeps tests that start servers in parallel
# from installing over each other.
ensure_node_modules() {
  local stamp="$here/node_modules/.package-lock.json"
  require_node
  exec 9<"$here/package-lock.json"
  flock 9
  if [ ! -f "$here/node_modules/s3rver/package.json" ] || [ ! -f "$stamp" ] ||
    [ "$here/package-lock.json" -nt "$stamp" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found: run scripts/install-deps.sh"
    warn "npm ci in $here"
    # npm's progress goes to stderr; stdout must carry only the port line.
    (cd "$here" && npm ci --no-audit --no-fund >&2) || die "npm ci failed in $here"
    touch "$stamp"
  fi
  exec 9<&-
}

# An HTTP answer, not just an open port. The x-haul-probe header keeps it out of access.log.
answers_http() {
  local port=$1 status
  status=$(
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Haul-Probe: 1\r\n\r\n' >&3
    read -r -t 5 status <&3 || exit 1
    echo "$status"
  ) 2>/dev/null || return 1
  [[ "$status" == "HTTP/1."?" 200"* ]]
}

start() {
  local rundir=$1 pid port deadline bucket
  shift
  local buckets=("$@")
  [ ${#buckets[@]} -gt 0 ] || buckets=(haul-test)
  for bucket in "${buckets[@]}"; do
    [[ "$bucket" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] ||
      die "not a valid bucket name: '$bucket'"
  done

  ensure_node_modules
  mkdir -p "$rundir"
  rundir=$(existing_rundir "$rundir") || exit
  if pid=$(read_pid "$rundir/s3rver.pid") && alive "$pid" &&
    is_ours "$pid" "$(s3rver_of "$rundir")"; then
    die "an s3rver (pid $pid) already runs in $rundir: stop it first"
  fi
  rm -f "$rundir/s3rver.pid" "$rundir/s3rver.port"
  mkdir -p "$rundir/data"

  local args=(--directory "$rundir/data" --access-log "$rundir/access.log"
    --port-file "$rundir/s3rver.port")
  for bucket in "${buckets[@]}"; do
    args+=(--bucket "$bucket")
  done
  node "$here/s3rver-logged.js" "${args[@]}" \
    </dev/null >>"$rundir/s3rver.log" 2>&1 &
  pid=$!
  echo "$pid" >"$rundir/s3rver.pid"

  deadline=$((SECONDS + 20))
  until [ -s "$rundir/s3rver.port" ] && read -r port <"$rundir/s3rver.port" &&
    answers_http "$port"; do
    if ! alive "$pid" || [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$rundir/s3rver.log" >&2 || true
      stop_s3rver "$pid" "$rundir" || true
      rm -f "$rundir/s3rver.pid" "$rundir/s3rver.port"
      die "s3rver did not start (log: $rundir/s3rver.log)"
    fi
    sleep 0.05
  done
  started "$rundir" "$port" "$pid"
}

stop() {
  local rundir=$1 pid
  rundir=$(existing_rundir "$rundir") || exit
  if pid=$(read_pid "$rundir/s3rver.pid"); then
    stop_s3rver "$pid" "$rundir"
  fi
  rm -f "$rundir/s3rver.pid" "$rundir/s3rver.port"
}

main s3rver.pid "$@"
