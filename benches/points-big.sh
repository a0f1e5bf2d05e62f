#!/usr/bin/env bash
# The 10^7-event runs: ingest into SQLite, then per student × dimension aggregation by the
# columnar cache vs SQLite's own GROUP BY (and the same on PostgreSQL when PG_URL is set).
# Usage: benches/points-big.sh [EVENTS] [STUDENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-10000000}"
students="${2:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p nianbao
bin="$CARGO_TARGET_DIR/release/nianbao"
work="${BENCH_DIR:-$(mktemp -d)}"
db="$work/points-bench.db"
rm -rf "$db" "$db"-* "$db.points-cache"
echo "== SQLite ingest: $events events, $students students → $db"
/usr/bin/time -v "$bin" --db "$db" points synth --school BIG --students "$students" --events "$events" --seed 42 2>&1 \
  | grep -E "共导入|Elapsed|Maximum resident"
ls -l "$db" "$db.points-cache"
echo "== SQLite aggregation (median of 5)"
"$bin" --db "$db" points bench --school BIG --repeat 5
if [ -n "${PG_URL:-}" ]; then
  echo "== PostgreSQL ingest and aggregation ($PG_URL)"
  /usr/bin/time -v "$bin" --database-url "$PG_URL" points --cache "$work/pg-cache" synth --school BIG --students "$students" --events "$events" --seed 42 2>&1 \
    | grep -E "共导入|Elapsed|Maximum resident"
  "$bin" --database-url "$PG_URL" points --cache "$work/pg-cache" bench --school BIG --repeat 5
fi
