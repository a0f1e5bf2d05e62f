#!/usr/bin/env bash
# Many writers on one store at once: two `accept` loops, an `import` loop switching between
# two versions of the sample, a web user saving a figure again and again and a web user
# reading the dashboard, all on one SQLite file (then on PostgreSQL). Counts every command
# that failed and every HTTP 500/503, and checks that every acceptance reported saved is
# in the change log.
#
# Usage: benches/store-contention.sh
# Environment:
#   BIN               a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   PG_ADMIN_URL      a PostgreSQL server for the second run
#                     (default postgres://postgres@127.0.0.1:5432/postgres; SKIP_PG=1 skips it)
#   ACCEPTS, IMPORTS, SAVES   loop counts (default 60, 30, 40)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ACCEPTS=${ACCEPTS:-60}
IMPORTS=${IMPORTS:-30}
SAVES=${SAVES:-40}
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
    rm -rf "$WORK"
}
trap cleanup EXIT

# Two versions of the sample: dsA as shipped, dsB with the land area changed.
"$BIN" --db "$WORK/seed.db" demo --out "$WORK/demo" >/dev/null 2>&1
cp -r "$WORK/demo/sample" "$WORK/dsA"
cp -r "$WORK/demo/sample" "$WORK/dsB"
sed -i 's/^land_area = .*/land_area = 330000/' "$WORK/dsB/years/2025.toml"

run() {
    local label=$1
    shift
    local store=("$@")
    local log="$WORK/$label"
    mkdir -p "$log"
    "$BIN" "${store[@]}" import "$WORK/dsA" >/dev/null
    printf '%s\n' "$PASSWORD" | "$BIN" "${store[@]}" user add --name "$USER_NAME" --role quality >/dev/null
    local code
    code=$("$BIN" "${store[@]}" schools | head -n 1 | cut -f 1)

    "$BIN" "${store[@]}" serve --addr 127.0.0.1:0 2>"$log/server.log" &
    SERVER_PID=$!
    local base=""
    for _ in $(seq 1 100); do
        base=$(sed -n 's/.*年报网页服务已启动：\(http:[^ ]*\).*/\1/p' "$log/server.log" | head -n 1 || true)
        [[ -n "$base" ]] && break
        sleep 0.1
    done
    [[ -n "$base" ]] || { echo "服务未启动" >&2; cat "$log/server.log" >&2; exit 1; }

    echo "== $label：2 个 accept 循环 ×$ACCEPTS、import 循环 ×$IMPORTS（dsB、dsA）、网页保存 ×$SAVES、概览页读取" >&2
    local stop="$log/stop"
    python3 "$ROOT/benches/contention_web.py" "$base" "$USER_NAME" "$PASSWORD" "$code" read "$stop" \
        >"$log/web-read.txt" &
    local reader=$!
    local started=$SECONDS
    (for i in $(seq "$IMPORTS"); do
        "$BIN" "${store[@]}" import "$WORK/dsB" >/dev/null 2>>"$log/import.err" || echo FAIL
        "$BIN" "${store[@]}" import "$WORK/dsA" >/dev/null 2>>"$log/import.err" || echo FAIL
    done) >"$log/import.txt" &
    local importer=$!
    (for i in $(seq "$ACCEPTS"); do
        "$BIN" "${store[@]}" accept 'staff.total-change:2025' --because "a$i" >/dev/null \
            2>>"$log/accept-a.err" && echo "OK a$i" || echo FAIL
    done) >"$log/accept-a.txt" &
    local accept_a=$!
    (for i in $(seq "$ACCEPTS"); do
        "$BIN" "${store[@]}" accept 'students.stock-flow:2024:电子商务' --because "b$i" >/dev/null \
            2>>"$log/accept-b.err" && echo "OK b$i" || echo FAIL
    done) >"$log/accept-b.txt" &
    local accept_b=$!
    python3 "$ROOT/benches/contention_web.py" "$base" "$USER_NAME" "$PASSWORD" "$code" save "$SAVES" \
        >"$log/web-save.txt"
    wait "$importer" "$accept_a" "$accept_b"
    touch "$stop"
    wait "$reader"
    local elapsed=$((SECONDS - started))

    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""

    # Every acceptance reported saved must be in the change log.
    "$BIN" "${store[@]}" history --limit 100000 >"$log/history.txt"
    local missing=0
    for id in $(sed -n 's/^OK //p' "$log/accept-a.txt" "$log/accept-b.txt"); do
        grep -q -- "→ $id\$" "$log/history.txt" || missing=$((missing + 1))
    done
    {
        echo "[$label] ${elapsed}s"
        echo "import failures: $(grep -c FAIL "$log/import.txt" || true) of $((IMPORTS * 2))"
        echo "accept failures: $(cat "$log/accept-a.txt" "$log/accept-b.txt" | grep -c FAIL || true) of $((ACCEPTS * 2))"
        tail -n 1 "$log/web-save.txt"
        tail -n 1 "$log/web-read.txt"
        echo "acceptances reported saved but missing from the change log: $missing"
        echo "HTTP 500 in the server log: $(grep -c '请求失败' "$log/server.log" || true)"
        if [[ -s "$log/accept-a.err" || -s "$log/accept-b.err" || -s "$log/import.err" ]]; then
            echo "first errors:"
            cat "$log/accept-a.err" "$log/accept-b.err" "$log/import.err" | sort | uniq -c | head -n 5
        fi
    } | tee -a "$WORK/summary.txt" >&2
}

run SQLite --db "$WORK/r.db"

if [[ "${SKIP_PG:-0}" != 1 ]]; then
    PG_DB="nianbao_contention_$$"
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    run PostgreSQL --database-url "${PG_ADMIN_URL%/*}/$PG_DB"
fi

echo
echo "== 汇总"
cat "$WORK/summary.txt"
