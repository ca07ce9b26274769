# shellcheck shell=bash
# What nginx.sh and s3rver.sh share: process checks, stopping by pid file, the owner watcher and
# the command line. Sourced, never run; the sourcing script defines usage, start RUNDIR [ARGS...]
# (which checks its own ARGS) and stop RUNDIR, then calls main.

# The script that sourced this file: it names itself in messages, and the watcher runs it again.
server_script=${BASH_SOURCE[1]}
prog=${server_script##*/}

# Messages name the script, since a test shows the stderr of several servers together.
warn() {
  echo "$prog: $*" >&2
}

# Every failure ends the script with 1, leaving 2 to usage.
die() {
  warn "$@"
  exit 1
}

# Both servers are run by or written in node, so say how to get it before anything starts.
require_node() {
  command -v node >/dev/null 2>&1 || die "node not found: run scripts/install-deps.sh"
}

# A zombie still answers kill -0, and in a container without an init nobody may reap it.
alive() {
  local pid=$1 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# wait_gone PID SECONDS: 0 once PID has exited, 1 if it is still there at the deadline.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while alive "$pid"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# Whether PID runs a command line containing NEEDLE (a path in this RUNDIR): a pid file that
# outlived its process (a reboot, a killed start) may name an unrelated process by now.
is_ours() {
  local pid=$1 needle=$2 cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"$needle"* ]]
}

# stop_pid PID NEEDLE SIGNAL TARGET [WHOSE]: SIGNAL, then KILL after 5 s, so a server that
# hangs cannot outlive its test. TARGET is the pid or, for nginx, "-PID": the master called
# setsid(), so its workers share its process group and a KILL of the group leaves no orphaned
# worker behind. WHOSE completes "pid P is not ..." when PID is not ours.
stop_pid() {
  local pid=$1 needle=$2 signal=$3 target=$4
  local whose=${5:-"ours (no '$needle' in its command line)"}
  alive "$pid" || return 0
  if ! is_ours "$pid" "$needle"; then
    warn "pid $pid is not $whose: left alone"
    return 0
  fi
  kill "-$signal" "$pid" 2>/dev/null || true
  wait_gone "$pid" 5 && return 0
  warn "pid $pid ignored SIG$signal for 5 s, sending KILL"
  kill -KILL -- "$target" 2>/dev/null || true
  wait_gone "$pid" 5 || die "pid $pid survived KILL"
}

# The pid in FILE, or 1 when FILE is missing, empty or garbled (a start killed half-way).
read_pid() {
  local file=$1 pid
  [ -s "$file" ] || return 1
  read -r pid <"$file" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  echo "$pid"
}

# RUNDIR's physical path: pid files and command lines hold it, so every call must spell it alike.
existing_rundir() {
  [ -d "$1" ] || die "no such RUNDIR: $1"
  (cd "$1" && pwd -P)
}

# started RUNDIR PORT PID: the last step of a successful start, so the port line is printed only
# once the watcher (if any) is in place.
started() {
  start_watcher "$1" "$3"
  echo "port=$2 pid=$3"
}

# With HAUL_TEST_SERVER_OWNER=PID in the environment (the C++ fixture sets it), a watcher
# stops the server once that process is gone, so a test that crashes or is killed by a
# timeout leaves no server behind.
start_watcher() {
  local rundir=$1 server_pid=$2 owner=${HAUL_TEST_SERVER_OWNER:-}
  [ -n "$owner" ] || return 0
  if ! [[ "$owner" =~ ^[0-9]+$ ]]; then
    warn "HAUL_TEST_SERVER_OWNER is not a pid ('$owner'): no watcher"
    return 0
  fi
  bash "$server_script" watch "$rundir" "$owner" "$server_pid" </dev/null >/dev/null 2>&1 &
}

# watch RUNDIR OWNER SERVER_PID PID_FILE (the watcher's loop): it leaves alone a server that
# was stopped and started again in the meantime, which PID_FILE (nginx.pid, s3rver.pid) tells.
watch() {
  local rundir=$1 owner=$2 server_pid=$3 pid_file=$4 pid
  while alive "$owner" && alive "$server_pid"; do
    sleep 0.5
  done
  if alive "$server_pid" && pid=$(read_pid "$rundir/$pid_file") && [ "$pid" = "$server_pid" ]; then
    stop "$rundir"
  fi
}

# main PID_FILE ARGS...: the command line both scripts take, so start, stop and the internal
# watch verb parse alike; start checks its own arguments.
main() {
  local pid_file=$1
  shift
  [ $# -ge 2 ] || usage
  case "$1" in
    start)
      shift
      start "$@"
      ;;
    stop)
      [ $# -eq 2 ] || usage
      stop "$2"
      ;;
    watch)
      [ $# -eq 4 ] || usage
      watch "$2" "$3" "$4" "$pid_file"
      ;;
    *) usage ;;
  esac
}
