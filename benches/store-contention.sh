#!/usr/bin/env bash
# Many writers on one store at once for DURATION seconds: two `accept` loops, an `import`
# loop switching between two versions of the sample, a points writer (`nianbao points import`
# of small CSVs of synthetic events, one after another, for a second school in the same
# store), a web user saving a figure again and again and a web user reading the dashboard,
# all on one SQLite file (then on PostgreSQL). Counts every command that failed and every
# HTTP 500/503, and checks the store afterwards: every acceptance and every web save reported
# saved is in the change log, every import reported done left its land area in the change
# log, and every points import that exited 0 has all its events in the ledger while every one
# that failed has none. Exits 1 when any of that is not so.
#
# Usage: benches/store-contention.sh
# Environment:
#   BIN               a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   PG_ADMIN_URL      a PostgreSQL server for the second run
#                     (default postgres://postgres@127.0.0.1:5432/postgres; SKIP_PG=1 skips it)
#   DURATION          seconds every writer and reader keeps going (default 60)
#   POINTS_CHUNK      events per points CSV (default 200)
#   POINTS_FILES      points CSVs made (default DURATION × 20, more than are imported in time)
#   KEEP_WORK=1       keep the working folder (stores, logs) for a look afterwards
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DURATION=${DURATION:-60}
POINTS_CHUNK=${POINTS_CHUNK:-200}
POINTS_SCHOOL="PTS0001"
USER_NAME="并发质量办"
PASSWORD="contention-password-2025"

if [[ -z "${BIN:-}" ]]; then
    echo "== 构建（release）" >&2
    cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml"
    BIN="$CARGO_TARGET_DIR/release/nianbao"
fi

WORK=$(mktemp -d)
SERVER_PID=""
PG_DB=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$PG_DB" ]]; then
        psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null || true
    fi
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "工作目录保留在 $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Two versions of the sample: dsA as shipped, dsB with the land area changed.
"$BIN" --db "$WORK/seed.db" demo --out "$WORK/demo" >/dev/null 2>&1
cp -r "$WORK/demo/sample" "$WORK/dsA"
cp -r "$WORK/demo/sample" "$WORK/dsB"
sed -i 's/^land_area = .*/land_area = 330000/' "$WORK/dsB/years/2025.toml"

# More points events than the points writer can import in DURATION seconds (at the default
# POINTS_CHUNK), cut into CSVs of POINTS_CHUNK events each (the header row in every one),
# imported in order.
POINTS_EVENTS=$((${POINTS_FILES:-$((DURATION * 20))} * POINTS_CHUNK))
"$BIN" --db "$WORK/points-seed.db" points --school "$POINTS_SCHOOL" synth --students 600 \
    --events "$POINTS_EVENTS" --seed 11 --csv "$WORK/events.csv" >/dev/null
mkdir -p "$WORK/chunks"
tail -n +2 "$WORK/events.csv" | split -l "$POINTS_CHUNK" -d -a 5 - "$WORK/chunks/rows-"
for rows in "$WORK"/chunks/rows-*; do
    { head -n 1 "$WORK/events.csv"; cat "$rows"; } >"${rows/rows-/events-}.csv"
    rm "$rows"
done

run() {
    local label=$1 kind=$2
    shift 2
    local store=("$@")
    local log="$WORK/$label"
    mkdir -p "$log"
    "$BIN" "${store[@]}" import "$WORK/dsA" >/dev/null
    local code
    code=$("$BIN" "${store[@]}" schools | head -n 1 | cut -f 1)
    printf '%s\n' "$PASSWORD" | "$BIN" "${store[@]}" user add --name "$USER_NAME" --role quality >/dev/null
    # The points school: roster, tree and terms as synth makes them, no events yet.
    "$BIN" "${store[@]}" points --school "$POINTS_SCHOOL" synth --students 600 --events 0 \
        --seed 11 --csv "$log/none.csv" >/dev/null

    "$BIN" "${store[@]}" serve --addr 127.0.0.1:0 2>"$log/server.log" &
    SERVER_PID=$!
    local base=""
    for _ in $(seq 1 100); do
        base=$(sed -n 's/.*年报网页服务已启动：\(http:[^ ]*\).*/\1/p' "$log/server.log" | head -n 1 || true)
        [[ -n "$base" ]] && break
        sleep 0.1
    done
    [[ -n "$base" ]] || { echo "服务未启动" >&2; cat "$log/server.log" >&2; exit 1; }

    echo "== $label：${DURATION} 秒；2 个 accept 循环、import 循环（dsB、dsA）、积分导入循环（每次 $POINTS_CHUNK 条）、网页保存、概览页读取；负载 $(uptime | sed 's/.*load average: //')" >&2
    local stop="$log/stop"
    local started=$SECONDS
    local deadline=$((SECONDS + DURATION))
    python3 "$ROOT/benches/contention_web.py" "$base" "$USER_NAME" "$PASSWORD" "$code" read "$stop" \
        >"$log/web-read.txt" &
    local reader=$!
    python3 "$ROOT/benches/contention_web.py" "$base" "$USER_NAME" "$PASSWORD" "$code" save "$stop" \
        >"$log/web-save.txt" &
    local saver=$!
    (while ((SECONDS < deadline)); do
        for ds in dsB dsA; do
            "$BIN" "${store[@]}" import "$WORK/$ds" >/dev/null 2>>"$log/import.err" &&
                echo "OK $ds" || echo "FAIL $ds"
        done
    done) >"$log/import.txt" &
    local importer=$!
    (i=0; while ((SECONDS < deadline)); do
        i=$((i + 1))
        "$BIN" "${store[@]}" accept 'staff.total-change:2025' --school "$code" --because "a$i" \
            >/dev/null 2>>"$log/accept-a.err" && echo "OK a$i" || echo "FAIL a$i"
    done) >"$log/accept-a.txt" &
    local accept_a=$!
    (i=0; while ((SECONDS < deadline)); do
        i=$((i + 1))
        "$BIN" "${store[@]}" accept 'students.stock-flow:2024:电子商务' --school "$code" --because "b$i" \
            >/dev/null 2>>"$log/accept-b.err" && echo "OK b$i" || echo "FAIL b$i"
    done) >"$log/accept-b.txt" &
    local accept_b=$!
    (for csv in "$WORK"/chunks/events-*.csv; do
        ((SECONDS < deadline)) || break
        "$BIN" "${store[@]}" points --school "$POINTS_SCHOOL" import "$csv" >/dev/null \
            2>>"$log/points.err" && echo "OK $csv" || echo "FAIL $csv"
    done) >"$log/points.txt" &
    local points=$!
    wait "$importer" "$accept_a" "$accept_b" "$points"
    touch "$stop"
    wait "$reader" "$saver"
    local elapsed=$((SECONDS - started))

    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""

    # Every acceptance reported saved must be in the change log.
    "$BIN" "${store[@]}" history --school "$code" --limit 10000000 >"$log/history.txt"
    local missing=0
    for id in $(sed -n 's/^OK //p' "$log/accept-a.txt" "$log/accept-b.txt"); do
        grep -q -- "→ $id\$" "$log/history.txt" || missing=$((missing + 1))
    done
    # Every import reported done switched the land area (dsB sets 330000, dsA sets it back),
    # and every web save reported saved set the figure: one change each in the change log.
    local to_b to_a logged_b logged_a saved logged_saves
    to_b=$(grep -c '^OK dsB' "$log/import.txt" || true)
    to_a=$(grep -c '^OK dsA' "$log/import.txt" || true)
    logged_b=$(grep 'land_area' "$log/history.txt" | grep -c '→ 330000$' || true)
    logged_a=$(grep 'land_area' "$log/history.txt" | grep -c -- '330000 → ' || true)
    saved=$(grep -c '^SAVED ' "$log/web-save.txt" || true)
    logged_saves=0
    for value in $(sed -n 's/^SAVED //p' "$log/web-save.txt"); do
        awk -F'\t' -v who="$USER_NAME" -v value="$value" \
            '$2 == who && $3 ~ /staff\.establishment$/ && $4 ~ ("→ " value "$") { found = 1 }
             END { exit !found }' "$log/history.txt" && logged_saves=$((logged_saves + 1))
    done
    # Every points import that exited 0 has all its events in the ledger, every one that
    # failed none.
    local query="SELECT p.event_id FROM points_event p JOIN school s ON s.id = p.school_id WHERE s.code = '$POINTS_SCHOOL'"
    if [[ $kind == sqlite ]]; then
        sqlite3 "${store[1]}" "$query" >"$log/ledger.txt"
    else
        psql "${store[1]}" -At -v ON_ERROR_STOP=1 -c "$query" >"$log/ledger.txt"
    fi
    python3 - "$log/points.txt" "$log/ledger.txt" >"$log/points-check.txt" <<'PY'
import csv, sys
outcomes, ledger = sys.argv[1], sys.argv[2]
present = set(open(ledger, encoding="utf-8").read().split())
whole = partial = none_failed = leaked = events = 0
for line in open(outcomes, encoding="utf-8"):
    status, path = line.split(maxsplit=1)
    with open(path.strip(), encoding="utf-8") as f:
        ids = [row["事件编号"] for row in csv.DictReader(f)]
    found = sum(i in present for i in ids)
    if status == "OK":
        events += len(ids)
        if found == len(ids):
            whole += 1
        else:
            partial += 1
    elif found == 0:
        none_failed += 1
    else:
        leaked += 1
extra = len(present) - events
print(f"{whole} {partial} {none_failed} {leaked} {events} {extra}")
PY
    local p_whole p_partial p_none p_leaked p_events p_extra
    read -r p_whole p_partial p_none p_leaked p_events p_extra <"$log/points-check.txt"

    local cli_fail web_fail http500 problems
    cli_fail=$(cat "$log/import.txt" "$log/accept-a.txt" "$log/accept-b.txt" "$log/points.txt" |
        grep -c '^FAIL' || true)
    web_fail=$(cat "$log/web-save.txt" "$log/web-read.txt" | grep -c '^FAIL' || true)
    http500=$(grep -c '请求失败' "$log/server.log" || true)
    problems=$((cli_fail + web_fail + http500 + missing + p_partial + p_leaked + (p_extra != 0)))
    ((to_b == logged_b && to_a == logged_a)) || problems=$((problems + 1))
    ((saved == logged_saves)) || problems=$((problems + 1))
    {
        echo "[$label] ${elapsed}s，负载 $(uptime | sed 's/.*load average: //')"
        echo "import: $((to_b + to_a)) ok, $(grep -c '^FAIL' "$log/import.txt" || true) failed; in the change log: $logged_b of $to_b to dsB, $logged_a of $to_a back to dsA"
        echo "accept: $(cat "$log/accept-a.txt" "$log/accept-b.txt" | grep -c '^OK' || true) ok, $(cat "$log/accept-a.txt" "$log/accept-b.txt" | grep -c '^FAIL' || true) failed; reported saved but missing from the change log: $missing"
        echo "points import: $(grep -c '^OK' "$log/points.txt" || true) ok ($p_events events), $(grep -c '^FAIL' "$log/points.txt" || true) failed; ok with all events: $p_whole, ok with some missing: $p_partial; failed with none recorded: $p_none, failed with some recorded: $p_leaked; events in the ledger from no import reported ok: $p_extra"
        echo "$(tail -n 1 "$log/web-save.txt"); saves reported saved: $saved, in the change log: $logged_saves"
        tail -n 1 "$log/web-read.txt"
        echo "HTTP 500 in the server log: $http500"
        if [[ -s "$log/accept-a.err" || -s "$log/accept-b.err" || -s "$log/import.err" || -s "$log/points.err" ]]; then
            echo "first errors:"
            cat "$log/accept-a.err" "$log/accept-b.err" "$log/import.err" "$log/points.err" |
                sort | uniq -c | head -n 5
        fi
        echo "problems: $problems"
    } | tee -a "$WORK/summary.txt" >&2
    TOTAL_PROBLEMS=$((TOTAL_PROBLEMS + problems))
}

TOTAL_PROBLEMS=0
run SQLite sqlite --db "$WORK/r.db"

if [[ "${SKIP_PG:-0}" != 1 ]]; then
    PG_DB="nianbao_contention_$$"
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    run PostgreSQL postgres --database-url "${PG_ADMIN_URL%/*}/$PG_DB"
fi

echo
echo "== 汇总"
cat "$WORK/summary.txt"
((TOTAL_PROBLEMS == 0))
