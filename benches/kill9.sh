#!/usr/bin/env bash
# Crash safety of the SQLite store: RUNS times, start a write (an import switching the
# sample between two versions, or an acceptance with an explanation of its own), kill it
# with SIGKILL at a random moment, then check that the file passes PRAGMA integrity_check
# and that what the store holds is entirely the old state or entirely the new one: the
# exported school folder equals one of the two versions, and an acceptance is either in
# both the acceptance table and the change log or in neither.
#
# Usage: benches/kill9.sh
# Environment:
#   BIN               a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   RUNS              number of kills (default 100)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
RUNS=${RUNS:-100}
WARNING="students.stock-flow:2024:电子商务"

command -v sqlite3 >/dev/null || { echo "需要 sqlite3：apt-get install sqlite3" >&2; exit 1; }
if [[ -z "${BIN:-}" ]]; then
    echo "== 构建（release）" >&2
    cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml"
    BIN="$CARGO_TARGET_DIR/release/nianbao"
fi

WORK=$(mktemp -d)
VICTIM=""
cleanup() {
    if [[ -n "$VICTIM" ]]; then
        kill -9 "$VICTIM" 2>/dev/null || true
        wait "$VICTIM" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Two versions of the sample that differ in many facts (every 2025 figure of section 1.4
# and the land area), so a half-applied import would show.
"$BIN" --db "$WORK/seed.db" demo --out "$WORK/demo" >/dev/null 2>&1
cp -r "$WORK/demo/sample" "$WORK/dsA"
cp -r "$WORK/demo/sample" "$WORK/dsB"
sed -i -E 's/^land_area = .*/land_area = 330000/; s/^(total|full_time_total) = ([0-9]+)$/\1 = 1\2/' \
    "$WORK/dsB/years/2025.toml"
if diff -q "$WORK/dsA/years/2025.toml" "$WORK/dsB/years/2025.toml" >/dev/null; then
    echo "两个版本的样例没有差别：请检查 sed 表达式" >&2
    exit 1
fi

DB="$WORK/store.db"
# The exported folder of each version, as the store gives it back.
for v in A B; do
    "$BIN" --db "$WORK/ref$v.db" import "$WORK/ds$v" >/dev/null
    "$BIN" --db "$WORK/ref$v.db" export "$WORK/export$v" >/dev/null
done
diff -rq "$WORK/exportA" "$WORK/exportB" >/dev/null && { echo "两个版本导出相同" >&2; exit 1; }
"$BIN" --db "$DB" import "$WORK/dsA" >/dev/null
state=A

# How long one import and one acceptance take here, so kills land during the work.
ms_of() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}
import_ms=$(ms_of "$BIN" --db "$WORK/refA.db" import --allow-deletions "$WORK/dsB")
accept_ms=$(ms_of "$BIN" --db "$WORK/refA.db" accept "$WARNING" --because "计时")
echo "== 一次导入约 ${import_ms} ms，一次接受约 ${accept_ms} ms；在 0 到 1.2 倍用时之间随机时刻 kill -9，共 $RUNS 次" >&2

killed=0 finished=0 old=0 new=0 accepted=0 not_accepted=0 failures=0
for run in $(seq 1 "$RUNS"); do
    if ((run % 2)); then
        kind=import
        target=$([[ $state == A ]] && echo B || echo A)
        limit=$((import_ms * 6 / 5 + 1))
        "$BIN" --db "$DB" import --allow-deletions "$WORK/ds$target" >/dev/null 2>&1 &
    else
        kind=accept
        limit=$((accept_ms * 6 / 5 + 1))
        "$BIN" --db "$DB" accept "$WARNING" --because "说明$run" >/dev/null 2>&1 &
    fi
    VICTIM=$!
    delay=$((RANDOM % limit))
    sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
    if kill -9 "$VICTIM" 2>/dev/null; then
        killed=$((killed + 1))
    else
        finished=$((finished + 1))
    fi
    wait "$VICTIM" 2>/dev/null || true
    VICTIM=""

    check=$(sqlite3 "$DB" "PRAGMA integrity_check" 2>&1)
    if [[ "$check" != ok ]]; then
        echo "第 $run 次（$kind，${delay} ms 后）：integrity_check 失败：$check" >&2
        failures=$((failures + 1))
        continue
    fi
    rm -rf "$WORK/now"
    if ! "$BIN" --db "$DB" export "$WORK/now" >/dev/null 2>"$WORK/export.err"; then
        echo "第 $run 次（$kind）：数据库无法导出：$(cat "$WORK/export.err")" >&2
        failures=$((failures + 1))
        continue
    fi
    if diff -rq "$WORK/now" "$WORK/exportA" >/dev/null; then
        now=A
    elif diff -rq "$WORK/now" "$WORK/exportB" >/dev/null; then
        now=B
    else
        echo "第 $run 次（$kind，${delay} ms 后）：数据既不是旧版本也不是新版本：" >&2
        diff -r "$WORK/now" "$WORK/exportA" | head -n 20 >&2 || true
        failures=$((failures + 1))
        continue
    fi
    if [[ $kind == import ]]; then
        if [[ $now == "$state" ]]; then old=$((old + 1)); else new=$((new + 1)); fi
    elif [[ $now != "$state" ]]; then
        echo "第 $run 次（accept）：接受说明改变了数据" >&2
        failures=$((failures + 1))
    else
        # The acceptance and its change-log line are written together or not at all.
        rows=$(sqlite3 "$DB" "SELECT COUNT(*) FROM acceptance WHERE explanation = '说明$run'")
        logged=$(sqlite3 "$DB" "SELECT COUNT(*) FROM change_log WHERE entity = 'acceptance' AND new_value = '说明$run'")
        if [[ "$rows" != "$logged" ]]; then
            echo "第 $run 次（accept）：接受表 $rows 行，变更记录 $logged 行" >&2
            failures=$((failures + 1))
        elif [[ "$rows" == 1 ]]; then
            accepted=$((accepted + 1))
        else
            not_accepted=$((not_accepted + 1))
        fi
    fi
    state=$now
done

echo
echo "== 汇总：$RUNS 次写入，$killed 次被 kill -9，$finished 次在 kill 前已结束"
echo "导入：$old 次保持旧数据，$new 次完整换成新数据"
echo "接受：$accepted 次完整保存，$not_accepted 次完全没有保存"
echo "完整性检查失败或数据半新半旧：$failures 次"
[[ $failures == 0 ]]
