#!/usr/bin/env bash
# The registers at school scale, from the command line on a SQLite file: importing 100,000
# usage records of the training bases (one transaction, a change-log line each), importing
# the same file again (nothing changes), and `nianbao check` on the store with the
# registers' figures beside the same store without them (the dataset then loads without
# any register figure), median of 5 runs each.
#
# Usage: benches/registers.sh [ROWS]
# Environment: CARGO_TARGET_DIR (release build; default /var/tmp/nianbao-target-release)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
ROWS=${1:-100000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== 构建（release）" >&2
cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml" >&2
BIN="$CARGO_TARGET_DIR/release/nianbao"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null || true  # check exits 1 when the data has errors (the sample has some)
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

cp -r "$ROOT/examples/qianjiang" "$WORK/sample"
rm -rf "$WORK/sample/content"
for db in with without; do
    "$BIN" --db "$WORK/$db.db" import "$WORK/sample" >/dev/null
done

printf '基地编号,基地名称,级别,年开放学时\n' > "$WORK/bases.csv"
for b in $(seq 1 40); do printf 'B%02d,实训室%d,校级,1600\n' "$b" "$b" >> "$WORK/bases.csv"; done
"$BIN" --db "$WORK/with.db" bases import bases "$WORK/bases.csv" >/dev/null
{
    printf '记录编号,基地编号,使用单位类型,使用单位,使用日期,学时,人数,用途\n'
    awk -v rows="$ROWS" 'BEGIN {
        for (i = 1; i <= rows; i++) {
            printf "U%07d,B%02d,校内班级,班级%d,2025-%02d-%02d,%d,%d,教学实训\n",
                i, i % 40 + 1, i % 200, i % 12 + 1, i % 28 + 1, i % 4 + 1, 20 + i % 30
        }
    }'
} > "$WORK/usage.csv"
ls -l "$WORK/usage.csv" | awk '{ print "使用记录文件：" $5 " 字节" }'

echo "== 导入 $ROWS 条使用记录（新增）"
/usr/bin/time -v "$BIN" --db "$WORK/with.db" bases import usage "$WORK/usage.csv" 2>&1 \
    | grep -E "已导入|Elapsed|Maximum resident"
echo "== 再次导入同一文件（无变化）"
/usr/bin/time -v "$BIN" --db "$WORK/with.db" bases import usage "$WORK/usage.csv" 2>&1 \
    | grep -E "已导入|Elapsed|Maximum resident"
ls -l "$WORK/with.db" | awk '{ print "数据库：" $5 " 字节" }'

echo "== nianbao check（5 次的中位数，秒）"
for db in with without; do
    for _ in 1 2 3 4 5; do seconds "$BIN" --db "$WORK/$db.db" check; done | median \
        | awk -v db="$db" '{ print (db == "with" ? "有登记数据：" : "无登记数据：") $1 }'
done
