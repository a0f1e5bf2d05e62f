#!/usr/bin/env bash
# Bulk import of point events: what `nianbao points import` does (the same library calls,
# built in release as the small `points_import` example of nianbao-store, so the run does not
# need a release build of the report stack), of a CSV that `nianbao points synth --csv`
# generated, measured with /usr/bin/time -v (events/s and peak RSS), side by side in the same
# run with the sqlite3
# shell loading the same CSV into a staging table and inserting it into the same schema
# with joins (no limit or reversal checks: a lower bound for the work). Each is run
# $REPEAT times on a fresh copy of the same set-up store; medians are printed. Both stores
# are then compared: same events, same totals, same reversals.
# With PG_URL set, the import is also timed on PostgreSQL (one run).
# Usage: benches/points-import.sh [EVENTS] [STUDENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-2000000}"
students="${2:-100000}"
repeat="${REPEAT:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# The set-up (roster, tree, terms, the CSV) is not timed: any build of nianbao does.
# NIANBAO_BIN and POINTS_IMPORT_BIN name binaries built elsewhere.
bin="${NIANBAO_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -p nianbao
  bin="$CARGO_TARGET_DIR/debug/nianbao"
fi
import="${POINTS_IMPORT_BIN:-}"
if [ -z "$import" ]; then
  cargo build --release -p nianbao-store --example points_import
  import="$CARGO_TARGET_DIR/release/examples/points_import"
fi
work="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
csv="$work/events.csv"
setup="$work/setup.db"
if [ -n "${REUSE:-}" ] && [ -f "$setup" ] && [ -f "$csv" ]; then
  echo "== set-up reused from $work"
else
  rm -rf "$setup" "$setup"-* "$setup.points-cache"
  echo "== set-up: $students students, tree and terms; $events events written to $csv"
  "$bin" --db "$setup" points --school BIG synth --students "$students" --events "$events" --seed 42 --csv "$csv"
  sqlite3 "$setup" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
fi
ls -l "$csv"

# The peer: staging table, index on the event id (reversals find their target), one INSERT.
cat >"$work/peer.sql" <<'SQL'
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -131072;
.mode csv
.import events.csv staging
CREATE INDEX staging_id ON staging ("事件编号");
BEGIN;
INSERT INTO points_batch (school_id, id, source, actor, imported_at, events)
SELECT s.id, 1, 'events.csv', 'sqlite3', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), (SELECT COUNT(*) FROM staging)
FROM school s WHERE s.code = 'BIG';
INSERT INTO points_event (school_id, school_year, seq, event_id, student_id, tree_version, observation, value, at, period_id, recorder, role, reason, evidence, reverses, batch_id)
SELECT sc.id, p.school_year, e.rowid, e."事件编号", st.id, o.tree_version, o.observation,
  CASE WHEN e."冲销事件" <> '' THEN -COALESCE(CAST(NULLIF(t."分值", '') AS INTEGER), o.value)
       ELSE COALESCE(CAST(NULLIF(e."分值", '') AS INTEGER), o.value) END,
  e."时间", p.id, e."记录人", e."记录角色", e."事由", NULLIF(e."佐证", ''),
  CASE WHEN e."冲销事件" <> '' THEN t.rowid END, 1
FROM staging e
JOIN school sc ON sc.code = 'BIG'
LEFT JOIN staging t ON e."冲销事件" <> '' AND t."事件编号" = e."冲销事件"
JOIN points_student st ON st.school_id = sc.id
  AND st.number = CASE WHEN e."冲销事件" <> '' THEN t."学号" ELSE e."学号" END
JOIN points_observation o ON o.school_id = sc.id
  AND o.tree_version = (SELECT MAX(version) FROM points_tree WHERE school_id = sc.id)
  AND o.code = CASE WHEN e."冲销事件" <> '' THEN t."观测点" ELSE e."观测点" END
JOIN points_period p ON p.school_id = sc.id AND substr(e."时间", 1, 10) BETWEEN p.starts AND p.ends
ORDER BY e.rowid;
COMMIT;
DROP TABLE staging;
SQL

# seconds and peak RSS (MB) from a /usr/bin/time -v log
elapsed() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.0f\n", $2 / 1024 }' "$1"; }
# CPU seconds (user + system) from a /usr/bin/time -v log
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f\n", s }' "$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >"$work/nianbao.times"
: >"$work/peer.times"
for i in $(seq "$repeat"); do
  db="$work/run.db"
  rm -rf "$db" "$db"-* "$db.points-cache"
  cp "$setup" "$db"
  /usr/bin/time -v "$import" "$db" BIG "$csv" >"$work/nianbao.out" 2>"$work/nianbao.time"
  cat "$work/nianbao.out"
  echo "$(elapsed "$work/nianbao.time") $(rss "$work/nianbao.time") $(cpu "$work/nianbao.time")" >>"$work/nianbao.times"

  peer="$work/peer.db"
  rm -rf "$peer" "$peer"-*
  cp "$setup" "$peer"
  (cd "$work" && /usr/bin/time -v sqlite3 "$peer" <peer.sql >/dev/null 2>"$work/peer.time") || { cat "$work/peer.time"; exit 1; }
  echo "$(elapsed "$work/peer.time") $(rss "$work/peer.time") $(cpu "$work/peer.time")" >>"$work/peer.times"
  echo "run $i: nianbao $(tail -1 "$work/nianbao.times") · sqlite3 $(tail -1 "$work/peer.times")  (seconds, MB, CPU seconds)"
done

n_s=$(cut -d' ' -f1 "$work/nianbao.times" | median)
n_m=$(cut -d' ' -f2 "$work/nianbao.times" | median)
p_s=$(cut -d' ' -f1 "$work/peer.times" | median)
p_m=$(cut -d' ' -f2 "$work/peer.times" | median)
n_c=$(cut -d' ' -f3 "$work/nianbao.times" | median)
p_c=$(cut -d' ' -f3 "$work/peer.times" | median)
echo "== medians of $repeat runs, $events events"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v e="$events" -v s="$n_s" -v m="$n_m" -v c="$n_c" 'BEGIN { printf "points import (release): %.2f s, %.0f events/s, peak RSS %d MB, CPU %.2f s\n", s, e / s, m, c }'
awk -v e="$events" -v s="$p_s" -v m="$p_m" -v c="$p_c" 'BEGIN { printf "sqlite3 staging+join:  %.2f s, %.0f events/s, peak RSS %d MB, CPU %.2f s\n", s, e / s, m, c }'
awk -v a="$n_s" -v b="$p_s" 'BEGIN { printf "ratio nianbao / sqlite3: %.2f\n", a / b }'

echo "== same rows, totals and reversals in both stores"
q="SELECT COUNT(*), SUM(value), COUNT(reverses), SUM(reverses IS NOT NULL AND value > 0) FROM points_event;"
a=$(sqlite3 "$work/run.db" "$q")
b=$(sqlite3 "$work/peer.db" "$q")
echo "nianbao: $a"
echo "sqlite3: $b"
[ "$a" = "$b" ] || { echo "the stores differ"; exit 1; }

if [ -n "${PG_URL:-}" ]; then
  echo "== PostgreSQL ($PG_URL): set-up, then import"
  "$bin" --database-url "$PG_URL" points --school BIGPG --cache "$work/pg-cache" synth --students "$students" --events "$events" --seed 42 --csv "$work/pg-events.csv" >/dev/null
  /usr/bin/time -v "$import" "$PG_URL" BIGPG "$work/pg-events.csv" 2>"$work/pg.time"
  awk -v e="$events" -v s="$(elapsed "$work/pg.time")" -v m="$(rss "$work/pg.time")" -v c="$(cpu "$work/pg.time")" 'BEGIN { printf "PostgreSQL import: %.2f s, %.0f events/s, peak RSS %d MB, client CPU %.2f s\n", s, e / s, m, c }'
fi
