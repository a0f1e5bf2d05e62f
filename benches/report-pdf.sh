#!/usr/bin/env bash
# The sample school's report as PDF alone: `nianbao report --format pdf` run REPEAT times on a
# store holding the sample, each under /usr/bin/time -v (wall, user+sys CPU, peak RSS), side
# by side with `--format html` (the same loading, checks and document model without the PDF),
# medians printed. Then the same PDF in one process that has already built its font book:
# the web server's /schools/CODE/report.pdf, the first request and the median of REPEAT more
# (curl's total time). Everything runs on loopback.
#
# Usage: benches/report-pdf.sh
# Environment:
#   BIN               a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   REPEAT            runs of each (default 10)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
REPEAT=${REPEAT:-10}
USER_NAME="报告计时质量办"
PASSWORD="report-pdf-password-2025"

command -v curl >/dev/null || { echo "需要 curl：apt-get install curl" >&2; exit 1; }
command -v pdfinfo >/dev/null || { echo "需要 pdfinfo：apt-get install poppler-utils" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "需要 /usr/bin/time：apt-get install time" >&2; exit 1; }
if [[ -z "${BIN:-}" ]]; then
    echo "== 构建（release）" >&2
    cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml"
    BIN="$CARGO_TARGET_DIR/release/nianbao"
fi

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    if [[ -n "$SERVER" ]]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

DB="$WORK/store.db"
"$BIN" --db "$DB" import "$ROOT/examples/qianjiang" >/dev/null
CODE=$("$BIN" --db "$DB" schools | head -n 1 | cut -f 1)

# seconds, CPU seconds (user + sys) and peak RSS (MB) from a /usr/bin/time -v log
times_of() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
        /User time/ { cpu += $2 }
        /System time/ { cpu += $2 }
        /Maximum resident set size/ { rss = $2 / 1024 }
        END { printf "%.3f %.3f %.0f\n", s, cpu, rss }' "$1"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "== 负载（开始）：$(uptime | sed 's/.*load average: //')"
for format in pdf html; do
    : >"$WORK/$format.times"
    for _ in $(seq 1 "$REPEAT"); do
        rm -rf "$WORK/out"
        /usr/bin/time -v "$BIN" --db "$DB" report --format "$format" --out "$WORK/out" \
            >/dev/null 2>"$WORK/time.log" || { cat "$WORK/time.log" >&2; exit 1; }
        times_of "$WORK/time.log" >>"$WORK/$format.times"
    done
    ls "$WORK/out"/*."$format" >/dev/null
done
rm -rf "$WORK/out"
"$BIN" --db "$DB" report --format pdf --out "$WORK/out" >/dev/null 2>&1
pages=$(pdfinfo "$WORK"/out/*.pdf 2>/dev/null | awk '/^Pages:/ { print $2 }')

# In one process: the web server renders the draft PDF on each request.
printf '%s\n' "$PASSWORD" | "$BIN" --db "$DB" user add --name "$USER_NAME" --role quality >/dev/null
"$BIN" --db "$DB" serve --addr 127.0.0.1:0 2>"$WORK/server.log" &
SERVER=$!
BASE=""
for _ in $(seq 1 200); do
    BASE=$(sed -n 's/.*年报网页服务已启动：\(http:[^ ]*\).*/\1/p' "$WORK/server.log" | head -n 1)
    [[ -n "$BASE" ]] && break
    sleep 0.05
done
[[ -n "$BASE" ]] || { echo "服务未启动：" >&2; cat "$WORK/server.log" >&2; exit 1; }
jar="$WORK/cookies.txt"
curl -sS -c "$jar" -b "$jar" -o "$WORK/login.html" "$BASE/login"
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | head -n 1)
curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf=$csrf" \
    --data-urlencode "name=$USER_NAME" --data-urlencode "password=$PASSWORD" "$BASE/login"
: >"$WORK/web.times"
for i in $(seq 0 "$REPEAT"); do
    answer=$(curl -sS -b "$jar" -o "$WORK/web.pdf" -w '%{http_code} %{time_total}' "$BASE/schools/$CODE/report.pdf")
    [[ ${answer% *} == 200 && $(head -c 4 "$WORK/web.pdf") == %PDF ]] ||
        { echo "report.pdf 应返回 200 和 PDF，实际 $answer" >&2; exit 1; }
    if ((i == 0)); then first=${answer#* }; else echo "${answer#* }" >>"$WORK/web.times"; fi
done
echo "== 负载（结束）：$(uptime | sed 's/.*load average: //')"

echo
echo "== 中位数（各 $REPEAT 次，$BIN）；报告 $pages 页"
for format in pdf html; do
    wall=$(cut -d' ' -f1 "$WORK/$format.times" | median)
    cpu=$(cut -d' ' -f2 "$WORK/$format.times" | median)
    rss=$(cut -d' ' -f3 "$WORK/$format.times" | median)
    echo "nianbao report --format $format: ${wall} s, CPU ${cpu} s, peak RSS ${rss} MB"
done
echo "GET /schools/$CODE/report.pdf: first ${first} s, then median $(median <"$WORK/web.times") s"
