#!/usr/bin/env bash
# Backup and restore at two store sizes, on PostgreSQL and SQLite: `nianbao synth schools`
# fills a PostgreSQL database of its own with N schools, then RUNS times each of
#   pg-backup        nianbao --database-url … backup FILE      (PostgreSQL → backup file)
#   pg-restore       nianbao --database-url … restore --force  (backup file → another database)
#   sqlite-restore   nianbao --db new.db restore FILE           (backup file → SQLite)
#   sqlite-backup    nianbao --db new.db backup FILE2           (VACUUM INTO)
# is timed with /usr/bin/time -v: the median wall time, CPU seconds (user+sys) and peak RSS
# are printed per size, with the backup file's size and the number of facts. Rows are
# streamed, so the peak RSS should not grow with the store.
#
# Usage: benches/backup.sh
# Environment:
#   BIN        a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   ADMIN_URL  a PostgreSQL server URL with a database to connect to for CREATE DATABASE
#              (default postgres://postgres@127.0.0.1:5432/postgres)
#   SIZES      numbers of schools (default "200 2000")
#   RUNS       runs per operation (default 3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
ADMIN_URL=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
read -r -a SIZE_LIST <<<"${SIZES:-200 2000}"
RUNS=${RUNS:-3}

if [[ -z "${BIN:-}" ]]; then
    cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml" >&2
    BIN=$CARGO_TARGET_DIR/release/nianbao
fi
command -v psql >/dev/null || { echo "psql is needed" >&2; exit 1; }

WORK=$(mktemp -d)
BASE=${ADMIN_URL%/*}
DATABASES=()
cleanup() {
    for db in "${DATABASES[@]}"; do
        psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# new_database SUFFIX: creates a database of its own and leaves its URL in REPLY (not
# printed: a command substitution would run in a subshell and the cleanup would not see it).
new_database() {
    local name="nianbao_bench_backup_$$_$1"
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1
    psql "$ADMIN_URL" -qc "CREATE DATABASE $name" >/dev/null
    DATABASES+=("$name")
    REPLY="$BASE/$name"
}

# timed LABEL COMMAND…: runs the command under /usr/bin/time -v, appends
# "wall cpu rss_kb" to $WORK/LABEL.
timed() {
    local label=$1
    shift
    /usr/bin/time -v "$@" >"$WORK/out.txt" 2>"$WORK/time.txt" || {
        cat "$WORK/out.txt" "$WORK/time.txt" >&2
        exit 1
    }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2] }
        /User time/ { cpu += $2 }
        /System time/ { cpu += $2 }
        /Maximum resident/ { rss = $2 }
        END { printf "%.2f %.2f %d\n", wall, cpu, rss }' "$WORK/time.txt" >>"$WORK/$label"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

report() {
    local label=$1
    local wall cpu rss
    wall=$(awk '{ print $1 }' "$WORK/$label" | median)
    cpu=$(awk '{ print $2 }' "$WORK/$label" | median)
    rss=$(awk '{ print $3 }' "$WORK/$label" | median)
    printf "  %-15s median %6.2f s wall, %6.2f s CPU, peak RSS %6.1f MB (%d runs)\n" \
        "$label" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)" "$(wc -l <"$WORK/$label")"
}

echo "binary: $BIN"
for size in "${SIZE_LIST[@]}"; do
    new_database "origin_$size"
    origin=$REPLY
    new_database "target_$size"
    target=$REPLY
    "$BIN" --database-url "$origin" synth schools --count "$size" >/dev/null
    rm -f "$WORK"/pg-* "$WORK"/sqlite-*
    for run in $(seq "$RUNS"); do
        file="$WORK/backup-$size-$run.db"
        timed pg-backup "$BIN" --database-url "$origin" backup "$file"
        timed pg-restore "$BIN" --database-url "$target" restore --force "$file"
        timed sqlite-restore "$BIN" --db "$WORK/restored-$size-$run.db" restore "$file"
        timed sqlite-backup "$BIN" --db "$WORK/restored-$size-$run.db" backup "$WORK/again-$size-$run.db"
    done
    facts=$(sqlite3 "$file" "SELECT COUNT(*) FROM fact")
    bytes=$(stat -c %s "$file")
    echo "$size schools: $facts facts, backup file $(echo "$bytes / 1048576" | bc -l | cut -c1-5) MB; $(uptime | sed 's/.*load/load/')"
    for label in pg-backup pg-restore sqlite-restore sqlite-backup; do
        report "$label"
    done
    rm -f "$WORK"/*.db "$WORK"/*.db-*
done
