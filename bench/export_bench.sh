#!/usr/bin/env bash
# haul's export job kind against the sqlite3 CLI: the time and peak memory to dump a SQLite
# database of about N MB as SQL text, uncompressed, through zstd -1 and through gzip -1 (and
# with --s3, to a private s3rver). Peers are the shell pipelines a user would write:
#   none   sqlite3 DB .dump > out.sql                 vs  haul, compression = "none"
#   zstd   sqlite3 DB .dump | zstd -1 -q > out.zst    vs  haul, compression = "zstd", level 1
#   gzip   sqlite3 DB .dump | gzip -1 > out.gz        vs  haul, compression = "gzip", level 1
#   s3     (the none row's sqlite3 .dump to a file)   vs  haul to s3rver, compression = "none"
# The database is generated with the sqlite3 CLI alone (a recursive CTE): a table `events`
# with integers, text (JSON-like, quotes, newlines, non-ASCII), reals, blobs and NULLs, a
# WITHOUT ROWID table `accounts` with a text key, and one index. Each rep runs every command
# once, interleaved (none, none, zstd, zstd, ... then the next rep), into a fresh haul store
# each time; the table shows medians. Rates are MB/s of dump text: the size of the
# uncompressed sqlite3 .dump is the numerator of every row (MB = 10^6 bytes). The first rep
# also checks, untimed, that haul's uncompressed output restores with sqlite3 into a database
# with the same row counts and the same sqlite3 .dump as the source, that its compressed
# outputs decompress to the same text, and (--s3) that the object holds the same bytes.
#
#   bash bench/export_bench.sh HAUL [--size-mb N] [--reps R] [--s3]    (N 1000, R 3)
#
# Everything is written under a temporary directory in ${TMPDIR:-/tmp}, removed on exit; it
# needs room for about 5x N MB (database, two dumps and the restored copy on the first rep).
# TMPDIR=/dev/shm keeps the disk out of the comparison where /dev/shm has the room.
# --s3 needs the test servers' node modules: npm ci --prefix scripts/test-servers
# shellcheck disable=SC2016 # peers' pipelines are single-quoted: "$1", "$2" are the inner shell's
set -euo pipefail

usage() {
  echo "usage: export_bench.sh HAUL [--size-mb N] [--reps R] [--s3]" >&2
  exit 2
}

die() {
  echo "export_bench.sh: $*" >&2
  exit 1
}

[ $# -ge 1 ] || usage
command_line="bash bench/export_bench.sh $*"
haul=$1
shift
size_mb=1000
reps=3
use_s3=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb)
      [ $# -ge 2 ] || usage
      size_mb=$2
      shift 2
      ;;
    --reps)
      [ $# -ge 2 ] || usage
      reps=$2
      shift 2
      ;;
    --s3)
      use_s3=1
      shift
      ;;
    *) usage ;;
  esac
done
[[ "$size_mb" =~ ^[1-9][0-9]*$ ]] || die "--size-mb expects a positive whole number of MB, found '$size_mb'"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--reps expects a positive whole number, found '$reps'"
if [ ! -f "$haul" ] || [ ! -x "$haul" ]; then
  die "not an executable file: $haul"
fi
haul=$(realpath "$haul")
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 not found (the sqlite3 package)"
command -v gzip >/dev/null 2>&1 || die "gzip not found"
have_zstd=0
command -v zstd >/dev/null 2>&1 && have_zstd=1
here=$(cd "$(dirname "$0")/.." && pwd)
servers=$here/scripts/test-servers
if [ "$use_s3" = 1 ]; then
  command -v node >/dev/null 2>&1 || die "--s3 needs node: run scripts/install-deps.sh"
  [ -f "$servers/node_modules/s3rver/package.json" ] ||
    die "--s3 needs s3rver's node modules: run npm ci --prefix scripts/test-servers"
fi

# GNU time gives elapsed seconds and peak RSS (of the command, or the largest process of a
# pipeline); without it bash's time gives the seconds only.
gnu_time=
if [ -x /usr/bin/time ] && /usr/bin/time -f "%e %M" -o /dev/null true 2>/dev/null; then
  gnu_time=/usr/bin/time
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/haul-export-bench-XXXXXX")
s3_started=0
cleanup() {
  if [ "$s3_started" = 1 ]; then
    bash "$servers/s3rver.sh" stop "$work/s3" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

avail_mb=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
if [ -n "$avail_mb" ] && [ "$avail_mb" -lt $((size_mb * 5)) ]; then
  echo "warning: $work has $avail_mb MB free; this run may need about $((size_mb * 5)) MB" >&2
fi

# gen_db PATH ROWS: the benchmark database with ROWS events and ROWS/20 accounts.
gen_db() {
  local db=$1 rows=$2
  sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT, amount REAL,
                    payload TEXT, raw BLOB);
CREATE TABLE accounts(name TEXT PRIMARY KEY, owner TEXT, balance REAL, opened INTEGER,
                      note TEXT) WITHOUT ROWID;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO events(id, ts, kind, amount, payload, raw)
SELECT i,
  1700000000 + i * 3 + abs(random() % 3),
  CASE abs(random() % 7) WHEN 0 THEN 'click' WHEN 1 THEN 'view' WHEN 2 THEN 'purchase'
    WHEN 3 THEN 'refund' WHEN 4 THEN 'signup' WHEN 5 THEN 'o''brien''s import' ELSE NULL END,
  CASE abs(random() % 10) WHEN 0 THEN NULL WHEN 1 THEN random() / 1e6
    WHEN 2 THEN random() / 7.0 ELSE abs(random() % 10000000) / 100.0 END,
  CASE abs(random() % 10) WHEN 0 THEN NULL
    WHEN 1 THEN 'line one' || char(10) || 'zürich ☃ ' || hex(randomblob(12))
    ELSE '{"user":' || abs(random() % 100000) || ',"session":"' ||
      lower(hex(randomblob(8 + abs(random() % 40)))) || '","ok":true}' END,
  CASE WHEN abs(random() % 4) = 0 THEN NULL ELSE randomblob(abs(random() % 64)) END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows / 20)
INSERT INTO accounts(name, owner, balance, opened, note)
SELECT 'acct-' || lower(hex(randomblob(6))) || '-' || i,
  'owner ' || abs(random() % 50000),
  abs(random() % 100000000) / 100.0,
  1600000000 + abs(random() % 100000000),
  CASE WHEN i % 3 = 0 THEN NULL ELSE hex(randomblob(20 + abs(random() % 60))) END
FROM n;
COMMIT;
CREATE INDEX events_kind_ts ON events(kind, ts);
SQL
}

bytes_of() {
  stat -c %s "$1"
}

# mb BYTES: BYTES in MB (10^6), one decimal.
mb() {
  awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'
}

# The row count for about size_mb MB, from the bytes per row of a 50,000-row probe.
probe_rows=50000
gen_db "$work/probe.db" "$probe_rows"
probe_bytes=$(bytes_of "$work/probe.db")
rm -f "$work/probe.db"
rows=$(awk -v want="$size_mb" -v pb="$probe_bytes" -v pr="$probe_rows" \
  'BEGIN { r = int(want * 1e6 * pr / pb); print (r < 1000 ? 1000 : r) }')

db=$work/source.db
echo "generating $rows events ($((rows / 20)) accounts) in $db ..."
gen_start=$SECONDS
gen_db "$db" "$rows"
db_bytes=$(bytes_of "$db")
events=$(sqlite3 "$db" "SELECT count(*) FROM events")
accounts=$(sqlite3 "$db" "SELECT count(*) FROM accounts")
echo "database: $(mb "$db_bytes") MB ($db_bytes bytes), $events events, $accounts accounts," \
  "generated in $((SECONDS - gen_start)) s"

s3_port=
bucket="haul-bench"
if [ "$use_s3" = 1 ]; then
  mkdir -p "$work/s3"
  s3_started=1
  s3_port=$(bash "$servers/s3rver.sh" start "$work/s3" "$bucket" | sed -n 's/^port=\([0-9]*\).*/\1/p')
  [ -n "$s3_port" ] || die "s3rver did not report a port"
  export HAUL_BENCH_S3_KEY=S3RVER HAUL_BENCH_S3_SECRET=S3RVER # the only key s3rver accepts
  echo "s3rver on 127.0.0.1:$s3_port, bucket $bucket"
fi

# timed NAME CMD...: runs CMD with its output in $work/NAME.log, appends "SECONDS RSS_KB" to
# the lists for NAME; on a non-zero exit, shows the log and stops the benchmark.
declare -A secs rss size
timed() {
  local name=$1 status=0
  shift
  local tf=$work/$name.time log=$work/$name.log
  if [ -n "$gnu_time" ]; then
    "$gnu_time" -f "%e %M" -o "$tf" "$@" >"$log" 2>&1 || status=$?
  else
    local TIMEFORMAT=%R
    { time "$@" >"$log" 2>&1; } 2>"$tf" || status=$?
  fi
  if [ "$status" != 0 ]; then
    echo "FAILED ($name, exit $status): $*" >&2
    cat "$log" >&2
    exit 1
  fi
  local elapsed peak
  read -r elapsed peak < <(tail -n 1 "$tf")
  secs[$name]+="$elapsed "
  rss[$name]+="${peak:-n/a} "
}

# peer NAME SCRIPT OUT: SCRIPT, a shell pipeline over "$1" (the database) and "$2" (OUT); with
# pipefail, so a failing sqlite3 is not hidden by the compressor's exit status.
peer() {
  local name=$1 script=$2 out=$3
  timed "$name" bash -c "set -o pipefail; $script" _ "$db" "$out"
  size[$name]=$(bytes_of "$out")
}

run_no=0
# haul_export NAME TARGET COMPRESSION [S3]: one haul run into a fresh store.
haul_export() {
  local name=$1 target=$2 codec=$3 s3=${4:-}
  run_no=$((run_no + 1))
  local store=$work/store-$run_no job=$work/job-$run_no.toml
  {
    echo "[runtime]"
    echo "store = \"$store\""
    echo "[[job]]"
    echo "name = \"bench\""
    echo "kind = \"export\""
    echo "source = \"$db\""
    echo "target = \"$target\""
    echo "compression = \"$codec\""
    [ "$codec" = none ] || echo "compression_level = 1"
    echo "part_size = \"16MiB\""
    if [ -n "$s3" ]; then
      echo "[job.s3]"
      echo "endpoint = \"http://127.0.0.1:$s3_port\""
      echo "region = \"us-east-1\""
      echo "access_key_env = \"HAUL_BENCH_S3_KEY\""
      echo "secret_key_env = \"HAUL_BENCH_S3_SECRET\""
      echo "path_style = true"
    fi
  } >"$job"
  timed "$name" "$haul" run "$job" --quiet
  rm -rf "$store" "$job"
}

# s3_object: the file in which s3rver stored the exported object.
s3_object() {
  local f
  f=$(find "$work/s3/data/$bucket" -type f -name 'dump.sql._S3rver_object' | head -n 1)
  [ -n "$f" ] || die "no dump.sql object in s3rver's bucket $bucket"
  echo "$f"
}

for ((rep = 1; rep <= reps; rep++)); do
  echo "rep $rep/$reps"
  peer sqlite3_none 'sqlite3 "$1" .dump > "$2"' "$work/out.sql"
  dump_bytes=${size[sqlite3_none]}
  haul_export haul_none "file://$work/haul.sql" none
  size[haul_none]=$(bytes_of "$work/haul.sql")
  if [ "$rep" = 1 ]; then
    if cmp -s "$work/out.sql" "$work/haul.sql"; then
      echo "  haul's uncompressed output is byte-identical to sqlite3 .dump"
    else
      echo "  haul's uncompressed output differs from sqlite3 .dump" \
        "($dump_bytes vs ${size[haul_none]} bytes; $(cd "$work" && { cmp out.sql haul.sql 2>&1 || true; } | head -n 1))"
    fi
    if ! sqlite3 "$work/restored.db" <"$work/haul.sql" >"$work/restore.log" 2>&1 ||
      [ -s "$work/restore.log" ]; then
      head -n 20 "$work/restore.log" >&2
      die "sqlite3 could not restore haul's output cleanly (sqlite3 restored.db < haul.sql)"
    fi
    got_events=$(sqlite3 "$work/restored.db" "SELECT count(*) FROM events")
    got_accounts=$(sqlite3 "$work/restored.db" "SELECT count(*) FROM accounts")
    if [ "$got_events" != "$events" ] || [ "$got_accounts" != "$accounts" ]; then
      die "restored $got_events events and $got_accounts accounts, expected $events and $accounts"
    fi
    echo "  restore check: sqlite3 restored haul.sql: $got_events events, $got_accounts accounts (as the source)"
    # Every value, not just the counts: sqlite3's own dump of the restored copy and of the source.
    sqlite3 "$work/restored.db" .dump | cmp -s - "$work/out.sql" ||
      die "the restored copy's sqlite3 .dump differs from the source's: haul's output lost or changed data"
    echo "  content check: sqlite3 .dump of the restored copy is byte-identical to the source's"
    rm -f "$work/out.sql" "$work/restored.db"
  else
    rm -f "$work/out.sql" "$work/haul.sql"
  fi

  if [ "$have_zstd" = 1 ]; then
    peer sqlite3_zstd 'sqlite3 "$1" .dump | zstd -1 -q > "$2"' "$work/out.zst"
    rm -f "$work/out.zst"
    haul_export haul_zstd "file://$work/haul.sql.zst" zstd
    size[haul_zstd]=$(bytes_of "$work/haul.sql.zst")
    if [ "$rep" = 1 ]; then
      zstd -dcq "$work/haul.sql.zst" | cmp -s - "$work/haul.sql" ||
        die "haul's zstd output does not decompress to its uncompressed output"
    fi
    rm -f "$work/haul.sql.zst"
  fi

  peer sqlite3_gzip 'sqlite3 "$1" .dump | gzip -1 > "$2"' "$work/out.gz"
  rm -f "$work/out.gz"
  haul_export haul_gzip "file://$work/haul.sql.gz" gzip
  size[haul_gzip]=$(bytes_of "$work/haul.sql.gz")
  if [ "$rep" = 1 ]; then
    gzip -dc "$work/haul.sql.gz" | cmp -s - "$work/haul.sql" ||
      die "haul's gzip output does not decompress to its uncompressed output"
    echo "  haul's compressed outputs decompress to its uncompressed output"
  fi
  rm -f "$work/haul.sql.gz"

  if [ "$use_s3" = 1 ]; then
    haul_export haul_s3 "s3://$bucket/dump.sql" none s3
    object=$(s3_object)
    size[haul_s3]=$(bytes_of "$object")
    if [ "$rep" = 1 ]; then
      cmp -s "$object" "$work/haul.sql" ||
        die "the S3 object differs from haul's uncompressed file output"
      echo "  the S3 object is byte-identical to haul's file output"
    fi
    find "$work/s3/data/$bucket" -mindepth 1 -delete
  fi
  rm -f "$work/haul.sql"
done

# median LIST: the median of the whitespace-separated numbers in LIST ("n/a" if any is n/a).
median() {
  tr -s ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '
    $1 == "n/a" { na = 1 } { v[NR] = $1 }
    END { if (na) print "n/a"; else printf "%.2f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# max_mb LIST: the largest KB figure in LIST, in MB (10^6 bytes).
max_mb() {
  tr -s ' ' '\n' <<<"$1" | awk '$1 == "n/a" { na = 1 } $1 > m { m = $1 }
    END { if (na) print "n/a"; else printf "%.1f\n", m * 1024 / 1e6 }'
}
rate() {
  awk -v b="$dump_bytes" -v s="$1" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "inf" }'
}
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b != "inf") printf "%.2f", b / a; else print "-" }'
}

echo
echo "command: $command_line"
echo "haul: $haul ($("$haul" --version 2>&1 | head -n 1))"
zstd_version="zstd CLI missing: zstd row skipped"
[ "$have_zstd" = 1 ] && zstd_version="zstd $(zstd -V | sed -n 's/.* \(v[0-9][0-9.]*\).*/\1/p')"
echo "sqlite3 $(sqlite3 --version | cut -d' ' -f1,2), $(gzip --version | head -n 1), $zstd_version"
echo "nproc: $(nproc), work dir: $work ($(df -PT "$work" | awk 'NR == 2 { print $2 }'))"
echo "database: $(mb "$db_bytes") MB, $events events + $accounts accounts;" \
  "sqlite3 .dump: $(mb "$dump_bytes") MB; reps: $reps; part_size 16MiB; times are medians"
[ -n "$gnu_time" ] || echo "no GNU time at /usr/bin/time: peak RSS not measured"
echo
echo "| output | sqlite3 s | haul s | sqlite3 MB/s | haul MB/s | haul/sqlite3 | sqlite3 MB | haul MB | sqlite3 peak RSS MB | haul peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
row() {
  local label=$1 peer_name=$2 haul_name=$3 ps hs pr hr
  ps=$(median "${secs[$peer_name]}")
  hs=$(median "${secs[$haul_name]}")
  pr=$(rate "$ps")
  hr=$(rate "$hs")
  echo "| $label | $ps | $hs | $pr | $hr | $(ratio "$pr" "$hr") | $(mb "${size[$peer_name]}") |" \
    "$(mb "${size[$haul_name]}") | $(max_mb "${rss[$peer_name]}") | $(max_mb "${rss[$haul_name]}") |"
}
row "file, none" sqlite3_none haul_none
if [ "$have_zstd" = 1 ]; then
  row "file, zstd -1" sqlite3_zstd haul_zstd
else
  echo "| file, zstd -1 | skipped: no zstd CLI for the peer | | | | | | | | |"
fi
row "file, gzip -1" sqlite3_gzip haul_gzip
if [ "$use_s3" = 1 ]; then
  row "s3rver, none (peer: .dump > file)" sqlite3_none haul_s3
fi
