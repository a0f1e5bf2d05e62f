#!/usr/bin/env bash
# Many schools in one process: `nianbao synth schools --count N`, then `nianbao check --all`
# and `nianbao indicators --all --format json` on the store, each timed with /usr/bin/time -v
# (median of RUNS runs), beside the pandas peer (benches/bureau_peer.py) evaluating the same
# rules and indicators from a CSV export of the same facts, in the same run. SQLite always;
# PostgreSQL too unless SKIP_PG=1. Then, on the SQLite store, the comparison page of the whole
# synthetic province (every school) served on loopback: the first request (computed) timed
# with curl, the following ones (kept) by wrk with one connection for WRK_SECONDS, and the
# first request after one school's data was changed by another process (RUNS times, median).
# Each timing line carries the CPU time (user + system) and the load average.
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
WRK_SECONDS=${WRK_SECONDS:-10}
COUNTS=("$@")
[ ${#COUNTS[@]} -eq 0 ] && COUNTS=(1000 10000)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The peer needs pandas: installed when missing (apt as root, else pip for this user); when
# it cannot be installed the peer and its ratio are skipped, saying so.
# PYTHON, else python3, else the system's /usr/bin/python3 when only it has pandas (a pyenv
# python3 first on PATH often lacks it).
PY=${PYTHON:-python3}
has_pandas() { "$PY" -c 'import pandas' 2>/dev/null; }
if ! has_pandas && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
    PY=/usr/bin/python3
fi
if ! has_pandas; then
    echo "== 未找到 pandas，尝试安装" >&2
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y python3-pandas >&2 || true
        has_pandas || PY=/usr/bin/python3
    fi
    has_pandas || "$PY" -m pip install --user pandas >&2 ||
        "$PY" -m pip install --user --break-system-packages pandas >&2 || true
fi
PEER=1
has_pandas || {
    PEER=0
    echo "!! pandas 无法安装：跳过 pandas 对照及比值（apt-get install python3-pandas 或 pip install pandas 后重跑）" >&2
}
echo "== 构建（release）" >&2
cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml" >&2
BIN="$CARGO_TARGET_DIR/release/nianbao"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The 1-minute load average now.
load() { cut -d' ' -f1 /proc/loadavg; }

# Runs a command RUNS times under /usr/bin/time -v; prints "median_seconds max_rss_kb
# median_cpu_seconds" (CPU = user + system).
measure() {
    local times=() cpus=() rss=0 i
    for i in $(seq 1 "$RUNS"); do
        /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || true
        local wall kb cpu
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + p[j]; print s }' "$WORK/time")
        kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time")
        cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$WORK/time")
        times+=("$wall")
        cpus+=("$cpu")
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    printf '%s\n' "${times[@]}" | median | tr '\n' ' '
    echo -n "$rss "
    printf '%s\n' "${cpus[@]}" | median
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
    local load_before
    load_before=$(load)
    read -r check_s check_kb check_cpu < <(measure "$BIN" "${db_args[@]}" check --all)
    read -r ind_s ind_kb ind_cpu < <(measure "$BIN" "${db_args[@]}" indicators --all --format json)
    # check --all exits 1 when a school has an error (the synthetic faults guarantee some).
    { "$BIN" "${db_args[@]}" check --all 2>/dev/null || true; } | tail -1
    printf '%s  %6d 所  check --all    %8.2f s  %7d KB  CPU %6.2f s  负载 %s→%s\n' \
        "$label" "$count" "$check_s" "$check_kb" "$check_cpu" "$load_before" "$(load)"
    printf '%s  %6d 所  indicators --all %6.2f s  %7d KB  CPU %6.2f s  负载 %s\n' \
        "$label" "$count" "$ind_s" "$ind_kb" "$ind_cpu" "$(load)"
    echo "$check_s $ind_s"
}

# The comparison page of the synthetic province on a SQLite store, as a signed-in reader.
compare_page() {
    local db=$1 count=$2
    local user="比较压测" password="bureau-bench-password-2025"
    printf '%s\n' "$password" | "$BIN" --db "$db" user add --name "$user" --role reviewer >/dev/null
    local log="$WORK/server.log"
    "$BIN" --db "$db" serve --addr 127.0.0.1:0 2>"$log" &
    local server=$!
    local base=""
    for _ in $(seq 1 100); do
        base=$(sed -n 's/.*年报网页服务已启动：\(http:[^ ]*\).*/\1/p' "$log" | head -n 1 || true)
        [[ -n "$base" ]] && break
        sleep 0.1
    done
    [[ -n "$base" ]] || { echo "服务未启动：" >&2; cat "$log" >&2; kill "$server"; return 1; }
    local jar="$WORK/cookies.txt"
    curl -sS -c "$jar" -b "$jar" -o "$WORK/login.html" "$base/login"
    local csrf
    csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | head -n 1)
    curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf=$csrf" \
        --data-urlencode "name=$user" --data-urlencode "password=$password" "$base/login"
    local session
    session=$(awk '$6 == "nianbao_session" { print $7 }' "$jar")
    local url="$base/areas/synth/compare?year=2025"
    local first
    first=$(curl -sS -o "$WORK/compare.html" -w '%{time_total}' -H "Cookie: nianbao_session=$session" "$url")
    grep -q "共 $count 所" "$WORK/compare.html" || { echo "比较页面没有列出 $count 所学校" >&2; kill "$server"; return 1; }
    printf 'SQLite      %6d 所  比较页面（首次计算）%8.3f s\n' "$count" "$first"
    wrk -t1 -c1 -d"${WRK_SECONDS}s" --latency -H "Cookie: nianbao_session=$session" \
        "$url&sort=student_teacher_ratio&desc=1&page=3" >"$WORK/wrk.txt"
    printf 'SQLite      %6d 所  比较页面（已保存，排序后第 3 页）中位数 %s，%s\n' "$count" \
        "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.txt")" \
        "$(awk '/Requests\/sec/ { print $2 " 次/秒" }' "$WORK/wrk.txt")"
    # One school's data changed by another process (export, one value edited, import),
    # then the page: only that school is evaluated again. RUNS saves, the median.
    local school times=() i
    school=$("$BIN" --db "$db" schools | awk 'NR == 1 { print $1 }')
    for i in $(seq 1 "$RUNS"); do
        rm -rf "$WORK/one"
        "$BIN" --db "$db" export "$WORK/one" --school "$school" >/dev/null
        sed -i "s/^books = .*/books = $((40000 + i))/" "$WORK/one/years/2025.toml"
        "$BIN" --db "$db" import "$WORK/one" >/dev/null
        times+=("$(curl -sS -o "$WORK/compare.html" -w '%{time_total}' -H "Cookie: nianbao_session=$session" "$url")")
        grep -q "共 $count 所" "$WORK/compare.html" || { echo "比较页面没有列出 $count 所学校" >&2; kill "$server"; return 1; }
    done
    printf 'SQLite      %6d 所  比较页面（一所学校保存后）中位数 %s s（%s 次），负载 %s\n' "$count" \
        "$(printf '%s\n' "${times[@]}" | median)" "$RUNS" "$(load)"
    kill "$server"
    wait "$server" 2>/dev/null || true
}

for count in "${COUNTS[@]}"; do
    echo "== $count 所合成学校"
    db="$WORK/bureau-$count.db"
    result=$(run_backend "SQLite    " "$count" --db "$db")
    echo "$result" | head -n -1
    read -r check_s ind_s < <(echo "$result" | tail -1)

    if [ "$PEER" = 1 ]; then
        sqlite3 -csv "$db" "SELECT s.code, f.year, f.element, f.major, f.value FROM fact f JOIN school s ON s.id = f.school_id" >"$WORK/facts.csv"
        printf 'CSV 导出：%s 行\n' "$(wc -l <"$WORK/facts.csv")"
        "$PY" "$ROOT/benches/bureau_peer.py" "$WORK/facts.csv" "$ROOT/data"
        read -r peer_s peer_kb peer_cpu < <(measure "$PY" "$ROOT/benches/bureau_peer.py" "$WORK/facts.csv" "$ROOT/data")
        printf 'pandas      %6d 所  规则+指标      %8.2f s  %7d KB  CPU %6.2f s  负载 %s\n' \
            "$count" "$peer_s" "$peer_kb" "$peer_cpu" "$(load)"
        printf '比值：pandas / (check --all) = %.2f；pandas / (indicators --all) = %.2f\n' \
            "$(echo "$peer_s / $check_s" | bc -l)" "$(echo "$peer_s / $ind_s" | bc -l)"
    else
        echo "pandas      $count 所  已跳过（未安装 pandas），无比值"
    fi
    compare_page "$db" "$count"

    if [ "${SKIP_PG:-0}" != 1 ]; then
        name="nb_bench_bureau_$$_$count"
        psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $name" >/dev/null
        url="${PG_ADMIN_URL%/*}/$name"
        run_backend "PostgreSQL" "$count" --database-url "$url" | head -n -1
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE $name" >/dev/null
    fi
done
