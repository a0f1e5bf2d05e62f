#!/usr/bin/env bash
# Many schools in one process: `nianbao synth schools --count N`, then `nianbao check --all`
# and `nianbao indicators --all --format json` on the store, each timed with /usr/bin/time -v
# (median of RUNS runs), beside the pandas peer (benches/bureau_peer.py) evaluating the same
# rules and indicators from a CSV export of the same facts, in the same run. SQLite always;
# PostgreSQL too unless SKIP_PG=1.
#
# Usage: benches/bureau.sh [COUNTS...]        (default: 1000 10000)
# Environment:
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   PG_ADMIN_URL      server for a scratch database (default postgres://postgres@127.0.0.1:5432/postgres)
#   RUNS              runs per measurement (default 3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
RUNS=${RUNS:-3}
COUNTS=("$@")
[ ${#COUNTS[@]} -eq 0 ] && COUNTS=(1000 10000)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 -c 'import pandas' 2>/dev/null || { echo "需要 pandas：pip install pandas" >&2; exit 1; }
echo "== 构建（release）" >&2
cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml" >&2
BIN="$CARGO_TARGET_DIR/release/nianbao"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Runs a command RUNS times under /usr/bin/time -v; prints "median_seconds max_rss_kb".
measure() {
    local times=() rss=0 i
    for i in $(seq 1 "$RUNS"); do
        /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || true
        local wall kb
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + p[j]; print s }' "$WORK/time")
        kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time")
        times+=("$wall")
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    printf '%s\n' "${times[@]}" | median | tr '\n' ' '
    echo "$rss"
}

run_backend() {
    local label=$1 count=$2
    shift 2
    local db_args=("$@")
    local started ended
    started=$(date +%s.%N)
    "$BIN" "${db_args[@]}" synth schools --count "$count" --seed 7 --faults 0.05 >/dev/null
    ended=$(date +%s.%N)
    printf '%s  %6d 所  合成并写入     %8.2f s\n' "$label" "$count" "$(echo "$ended - $started" | bc)"
    read -r check_s check_kb < <(measure "$BIN" "${db_args[@]}" check --all)
    read -r ind_s ind_kb < <(measure "$BIN" "${db_args[@]}" indicators --all --format json)
    "$BIN" "${db_args[@]}" check --all 2>/dev/null | tail -1
    printf '%s  %6d 所  check --all    %8.2f s  %7d KB\n' "$label" "$count" "$check_s" "$check_kb"
    printf '%s  %6d 所  indicators --all %6.2f s  %7d KB\n' "$label" "$count" "$ind_s" "$ind_kb"
    echo "$check_s $ind_s"
}

for count in "${COUNTS[@]}"; do
    echo "== $count 所合成学校"
    db="$WORK/bureau-$count.db"
    result=$(run_backend "SQLite    " "$count" --db "$db")
    echo "$result" | head -n -1
    read -r check_s ind_s < <(echo "$result" | tail -1)

    sqlite3 -csv "$db" "SELECT s.code, f.year, f.element, f.major, f.value FROM fact f JOIN school s ON s.id = f.school_id" >"$WORK/facts.csv"
    printf 'CSV 导出：%s 行\n' "$(wc -l <"$WORK/facts.csv")"
    python3 "$ROOT/benches/bureau_peer.py" "$WORK/facts.csv" "$ROOT/data"
    read -r peer_s peer_kb < <(measure python3 "$ROOT/benches/bureau_peer.py" "$WORK/facts.csv" "$ROOT/data")
    printf 'pandas      %6d 所  规则+指标      %8.2f s  %7d KB\n' "$count" "$peer_s" "$peer_kb"
    printf '比值：pandas / (check --all) = %.2f；pandas / (indicators --all) = %.2f\n' \
        "$(echo "$peer_s / $check_s" | bc -l)" "$(echo "$peer_s / $ind_s" | bc -l)"

    if [ "${SKIP_PG:-0}" != 1 ]; then
        name="nb_bench_bureau_$$_$count"
        psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $name" >/dev/null
        url="${PG_ADMIN_URL%/*}/$name"
        run_backend "PostgreSQL" "$count" --database-url "$url" | head -n -1
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE $name" >/dev/null
    fi
done
