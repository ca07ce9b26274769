#!/usr/bin/env bash
# A private nginx on 127.0.0.1 for upload integration tests and benchmarks; see README.md.
#
#   nginx.sh start RUNDIR [FLAKY_PERCENT]   prints one line: port=N pid=P
#   nginx.sh stop RUNDIR
#
# Everything the instance writes (config, pid files, logs, temp files, stored uploads) stays in
# RUNDIR, so several instances run side by side and the system nginx service is not involved.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

usage() {
  echo "usage: nginx.sh start RUNDIR [FLAKY_PERCENT] | nginx.sh stop RUNDIR" >&2
  exit 2
}

find_nginx() {
  if [ -n "${HAUL_NGINX:-}" ]; then
    echo "$HAUL_NGINX"
  elif command -v nginx >/dev/null 2>&1; then
    command -v nginx
  elif [ -x /usr/sbin/nginx ]; then
    # A normal user's PATH on Debian has no /usr/sbin.
    echo /usr/sbin/nginx
  else
    die "nginx not found: run scripts/install-deps.sh (Debian package nginx) or set HAUL_NGINX"
  fi
}

# The kernel's pick for a free port. nginx cannot report a port it chose itself, so there is a
# window in which another process may take this one; start retries with another port.
free_port() {
  node -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# split_clients lines for FLAKY_PERCENT: 503 and 502 about 2:1, in hundredths of a percent.
flaky_split() {
  local total=$(($1 * 100)) p503 p502
  p503=$((total * 2 / 3))
  p502=$((total - p503))
  if [ "$p503" -gt 0 ]; then
    printf '    %d.%02d%% 503;\n' $((p503 / 100)) $((p503 % 100))
  fi
  if [ "$p502" -gt 0 ]; then
    printf '    %d.%02d%% 502;\n' $((p502 / 100)) $((p502 % 100))
  fi
  printf '    * "";\n'
}

write_conf() {
  local rundir=$1 port=$2 flaky=$3 blackhole_port=$4 user_line="" nofile
  # As many descriptors as the hard limit allows (up to 16384), so nginx neither warns nor
  # fails to raise it; a proxied request holds two.
  nofile=$(ulimit -Hn)
  if [ "$nofile" = unlimited ] || [ "$nofile" -gt 16384 ]; then
    nofile=16384
  fi
  # Unprivileged, nginx ignores "user" (with a warning); as root its default, nobody, could not
  # write RUNDIR.
  if [ "$(id -u)" -eq 0 ]; then
    user_line="user root;"
  fi
  cat >"$rundir/nginx.conf" <<EOF
# Written by scripts/test-servers/nginx.sh start; rewritten on every start.
$user_line
daemon on;
worker_processes auto;
pid "$rundir/nginx.pid";
error_log "$rundir/error.log" warn;
# A graceful stop (QUIT) otherwise waits for every open request, stalled ones included.
worker_shutdown_timeout 3s;
worker_rlimit_nofile $nofile;

events {
  worker_connections $((nofile / 2));
}

http {
  log_format haul '\$request_method \$request_uri \$status \$request_length';
  # Unbuffered: each line is written as its request ends, so a test can read it at once.
  access_log "$rundir/access.log" haul;

  client_body_temp_path "$rundir/tmp/body";
  proxy_temp_path "$rundir/tmp/proxy";
  fastcgi_temp_path "$rundir/tmp/fastcgi";
  uwsgi_temp_path "$rundir/tmp/uwsgi";
  scgi_temp_path "$rundir/tmp/scgi";

  types {}
  default_type application/octet-stream;
  sendfile on;
  server_tokens off;
  keepalive_timeout 300s;
  keepalive_requests 100000;
  client_max_body_size 0;
  client_body_buffer_size 1m;

  # request_id is random per request, so each request is flaky on its own.
  split_clients "\${request_id}" \$haul_flaky {
$(flaky_split "$flaky")
  }

  server {
    listen 127.0.0.1:$port;
    server_name localhost;
    root "$rundir/root";

    # WebDAV PUT: 201 for a new file, 204 for an overwrite; parent directories are created.
    dav_methods PUT DELETE MKCOL;
    create_full_put_path on;
    dav_access user:rw group:rw all:r;

    location /put/ {
    }

    location /flaky/ {
      if (\$haul_flaky = 503) {
        add_header Retry-After 1 always;
        return 503;
      }
      if (\$haul_flaky = 502) {
        return 502;
      }
    }

    # 403 when the part after /deny/ contains "deny", until the file RUNDIR/allow exists.
    # nginx's "if" has no "and": the conditions are combined through a variable.
    location /deny/ {
      set \$haul_deny "";
      if (\$uri ~ "^/deny/.*deny") {
        set \$haul_deny 1;
      }
      if (-f "$rundir/allow") {
        set \$haul_deny "";
      }
      if (\$haul_deny) {
        return 403;
      }
    }

    # Never answered: the upstream reads the request and stays silent.
    location /stall/ {
      proxy_pass http://127.0.0.1:$blackhole_port;
      proxy_http_version 1.1;
      proxy_connect_timeout 5s;
      proxy_send_timeout 3600s;
      proxy_read_timeout 3600s;
    }

    # Anything else is a mistake in the test: fail it loudly.
    location / {
      return 404;
    }
  }
}
EOF
}

# Undo a start that failed half-way.
cleanup_start() {
  local rundir=$1 pid
  if pid=$(read_pid "$rundir/nginx.pid"); then
    stop_pid "$pid" "$rundir/nginx.conf" QUIT "-$pid" || true
  fi
  if pid=$(read_pid "$rundir/blackhole.pid"); then
    stop_pid "$pid" "$rundir/blackhole.port" TERM "$pid" || true
  fi
  rm -f "$rundir/nginx.pid" "$rundir/blackhole.pid" "$rundir/blackhole.port"
}

start() {
  [ $# -le 2 ] || usage
  local rundir=$1 flaky=${2:-15} nginx pid port blackhole_pid blackhole_port deadline attempt
  if ! [[ "$flaky" =~ ^[0-9]+$ ]] || [ "$flaky" -gt 100 ]; then
    die "FLAKY_PERCENT must be an integer 0..100, got '$flaky'"
  fi
  flaky=$((10#$flaky)) # "08" is not octal
  require_node
  nginx=$(find_nginx)

  mkdir -p "$rundir"
  rundir=$(existing_rundir "$rundir") || exit
  # The path is written into nginx.conf inside double quotes.
  case "$rundir" in
    *[\"\$\\\;{}\']* | *$'\n'*) die "RUNDIR must not contain quotes, \$, \\, ;, { or }: $rundir" ;;
  esac
  if pid=$(read_pid "$rundir/nginx.pid") && alive "$pid" &&
    is_ours "$pid" "$rundir/nginx.conf"; then
    die "an nginx (pid $pid) already runs in $rundir: stop it first"
  fi
  # A blackhole left behind by a start that was itself killed.
  if pid=$(read_pid "$rundir/blackhole.pid"); then
    stop_pid "$pid" "$rundir/blackhole.port" TERM "$pid"
  fi
  rm -f "$rundir/nginx.pid" "$rundir/blackhole.pid" "$rundir/blackhole.port"
  mkdir -p "$rundir/root/put" "$rundir/root/flaky" "$rundir/root/deny" "$rundir/tmp"

  node "$here/blackhole.js" "$rundir/blackhole.port" </dev/null >>"$rundir/blackhole.log" 2>&1 &
  blackhole_pid=$!
  echo "$blackhole_pid" >"$rundir/blackhole.pid"
  deadline=$((SECONDS + 10))
  until [ -s "$rundir/blackhole.port" ]; do
    if ! alive "$blackhole_pid" || [ "$SECONDS" -ge "$deadline" ]; then
      cat "$rundir/blackhole.log" >&2 || true
      cleanup_start "$rundir"
      die "blackhole.js did not start (log: $rundir/blackhole.log)"
    fi
    sleep 0.02
  done
  read -r blackhole_port <"$rundir/blackhole.port"

  : >"$rundir/nginx.out"
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$(free_port) || {
      cleanup_start "$rundir"
      die "could not find a free port with node"
    }
    write_conf "$rundir" "$port" "$flaky" "$blackhole_port"
    # Until nginx opens its error_log, it reports to stderr: keep that away from our stdout.
    if "$nginx" -p "$rundir" -c "$rundir/nginx.conf" -e "$rundir/error.log" \
      </dev/null >>"$rundir/nginx.out" 2>&1; then
      break
    fi
    if ! grep -q "Address already in use" "$rundir/nginx.out" ||
      [ "$attempt" -eq 10 ]; then
      cat "$rundir/nginx.out" >&2 || true
      tail -n 20 "$rundir/error.log" >&2 2>/dev/null || true
      cleanup_start "$rundir"
      die "nginx did not start (config: $rundir/nginx.conf)"
    fi
    # Port taken between our pick and nginx's bind: forget the message and try another.
    : >"$rundir/nginx.out"
  done

  # With daemon on, the launcher exits before the daemonised master writes its pid file.
  deadline=$((SECONDS + 10))
  until pid=$(read_pid "$rundir/nginx.pid") && port_open "$port"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$rundir/error.log" >&2 2>/dev/null || true
      cleanup_start "$rundir"
      die "nginx wrote no pid file or does not accept connections on port $port"
    fi
    sleep 0.02
  done
  started "$rundir" "$port" "$pid"
}

stop() {
  local rundir=$1 pid status=0
  rundir=$(existing_rundir "$rundir") || exit
  # The blackhole first: nginx then answers stalled requests at once and QUIT ends quickly.
  if pid=$(read_pid "$rundir/blackhole.pid"); then
    stop_pid "$pid" "$rundir/blackhole.port" TERM "$pid" || status=1
  fi
  if pid=$(read_pid "$rundir/nginx.pid"); then
    stop_pid "$pid" "$rundir/nginx.conf" QUIT "-$pid" || status=1
  fi
  if [ "$status" -eq 0 ]; then
    rm -f "$rundir/nginx.pid" "$rundir/blackhole.pid" "$rundir/blackhole.port"
  fi
  return "$status"
}

main nginx.pid "$@"
