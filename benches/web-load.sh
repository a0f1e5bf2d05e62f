#!/usr/bin/env bash
# Load figures for the web app: wrk against a signed-in user's dashboard (/schools/CODE),
# first on a SQLite file, then on a fresh PostgreSQL database. Everything runs on loopback.
#
# Usage: benches/web-load.sh
# Environment:
#   BIN               a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   PG_ADMIN_URL      a PostgreSQL server to create the scratch database on
#                     (default postgres://postgres@127.0.0.1:5432/postgres; SKIP_PG=1 skips it)
#   DURATION, THREADS, CONNECTIONS   wrk settings (default 30s, 2, 50)
#   SOAK_SECONDS      after the measured run, load the server this many seconds more while
#                     sampling its resident memory (VmRSS) from /proc every 10 s
#                     (default 0: no soak; 300 for the five-minute run)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DURATION=${DURATION:-30s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
SOAK_SECONDS=${SOAK_SECONDS:-0}
SAMPLE="$ROOT/examples/qianjiang"
USER_NAME="压测质量办"
PASSWORD="web-load-password-2025"

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "需要 $tool：apt-get install $tool" >&2; exit 1; }
done

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

# Counts every response whose status is not 200 (wrk itself counts only >= 400 as errors,
# so a redirect to /login would otherwise pass unnoticed).
cat >"$WORK/status.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body)
    if status ~= 200 then not_ok = not_ok + 1 end
end
function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("not_ok") end
    io.write(string.format("Non-200 responses: %d\n", total))
end
LUA

# bench LABEL STORE-ARGS...: import the sample, add a user, serve, sign in, run wrk.
bench() {
    local label=$1
    shift
    local store=("$@")
    echo "== $label：导入示例学校并添加账号" >&2
    "$BIN" "${store[@]}" import "$SAMPLE" >&2
    printf '%s\n' "$PASSWORD" | "$BIN" "${store[@]}" user add --name "$USER_NAME" --role quality >&2
    local code
    code=$("$BIN" "${store[@]}" schools | head -n 1 | cut -f 1)

    local log="$WORK/server-$label.log"
    : >"$log"
    "$BIN" "${store[@]}" serve --addr 127.0.0.1:0 2>"$log" &
    SERVER_PID=$!
    local base=""
    for _ in $(seq 1 100); do
        base=$(sed -n 's/.*年报网页服务已启动：\(http:[^ ]*\).*/\1/p' "$log" | head -n 1 || true)
        [[ -n "$base" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n "$base" ]] || { echo "服务未启动：" >&2; cat "$log" >&2; exit 1; }

    # Sign in as a browser would: the login page sets nianbao_login and carries the same
    # token in its csrf field; the POST answers 303 with the nianbao_session cookie.
    local jar="$WORK/cookies-$label.txt"
    curl -sS -c "$jar" -b "$jar" -o "$WORK/login.html" "$base/login"
    local csrf
    csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | head -n 1)
    local status
    status=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrf=$csrf" --data-urlencode "name=$USER_NAME" \
        --data-urlencode "password=$PASSWORD" "$base/login")
    [[ "$status" == 303 ]] || { echo "登录失败：HTTP $status" >&2; exit 1; }
    local session
    session=$(awk '$6 == "nianbao_session" { print $7 }' "$jar")
    [[ -n "$session" ]] || { echo "登录后没有 nianbao_session cookie" >&2; exit 1; }

    local url="$base/schools/$code"
    check_dashboard() {
        local status
        status=$(curl -sS -o "$WORK/dashboard.html" -w '%{http_code}' \
            -H "Cookie: nianbao_session=$session" "$url")
        if [[ "$status" != 200 ]] || ! grep -q '各部分填报进度' "$WORK/dashboard.html"; then
            echo "$url 应返回 200 且包含「各部分填报进度」，实际 HTTP $status" >&2
            exit 1
        fi
    }
    check_dashboard
    echo "== $label：$url 返回 200，页面含「各部分填报进度」" >&2

    echo "== $label：wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $url" >&2
    local out="$WORK/wrk-$label.txt"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/status.lua" \
        -H "Cookie: nianbao_session=$session" "$url" | tee "$out" >&2
    check_dashboard

    if ((SOAK_SECONDS > 0)); then
        echo "== $label：再加载 ${SOAK_SECONDS} 秒，每 10 秒记录一次服务进程的 VmRSS" >&2
        local rss="$WORK/rss-$label.txt"
        : >"$rss"
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SOAK_SECONDS}s" -s "$WORK/status.lua" \
            -H "Cookie: nianbao_session=$session" "$url" >"$WORK/soak-$label.txt" &
        local soak=$!
        while kill -0 "$soak" 2>/dev/null; do
            awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status" >>"$rss"
            sleep 10
        done
        wait "$soak" || true
        check_dashboard
        {
            echo "soak ${SOAK_SECONDS}s: $(grep -E 'Requests/sec' "$WORK/soak-$label.txt")"
            grep -E 'Non-200 responses|Socket errors' "$WORK/soak-$label.txt" | sed 's/^/soak /' || true
            awk 'NR == 1 { first = $1; max = $1 } { last = $1; if ($1 > max) max = $1 }
                 END { printf "server VmRSS over %d samples: first %d KiB, last %d KiB, max %d KiB\n", NR, first, last, max }' "$rss"
            echo "VmRSS samples (KiB): $(tr '\n' ' ' <"$rss")"
        } >>"$WORK/soak-summary-$label.txt"
    fi

    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""

    {
        echo "[$label]"
        grep -E 'Requests/sec|Transfer/sec' "$out"
        grep -E '^ +99%' "$out" | sed 's/^ *99% */p99 latency: /'
        grep -E 'Non-2xx or 3xx|Socket errors|Non-200 responses' "$out" || true
        grep -qE 'Socket errors' "$out" || echo "Socket errors: none"
        grep -qE 'Non-2xx or 3xx' "$out" || echo "Non-2xx or 3xx responses: none"
        [[ -f "$WORK/soak-summary-$label.txt" ]] && cat "$WORK/soak-summary-$label.txt"
        true
    } >>"$WORK/summary.txt"
}

bench SQLite --db "$WORK/bench.db"

if [[ "${SKIP_PG:-0}" != 1 ]]; then
    PG_DB="nianbao_bench_$$"
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    bench PostgreSQL --database-url "${PG_ADMIN_URL%/*}/$PG_DB"
fi

echo
echo "== 汇总（wrk -t$THREADS -c$CONNECTIONS -d$DURATION，已登录用户的概览页）"
cat "$WORK/summary.txt"
