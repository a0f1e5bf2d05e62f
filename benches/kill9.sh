#!/usr/bin/env bash
# Crash safety of the SQLite store: RUNS times, start a write, kill it with SIGKILL at a
# random moment, then check that the file passes PRAGMA integrity_check and that what the
# store holds is entirely the old state or entirely the new one. The writes take turns:
#   import  an import switching the sample between two versions (A and B); the exported
#           school folder must equal one of the two;
#   accept  an acceptance with an explanation of its own: in both the acceptance table and
#           the change log, or in neither;
#   web     `nianbao serve` on the store, a signed-in user saving section 1.5 again and
#           again (every whole-number figure of 2025 moved by one, then back: version W and
#           A), the server killed while saves are in flight; the export must equal A or W,
#           the change log must hold every field of each save that reached the database
#           and nothing of any other, every save answered 303 must be among them;
#   points  `nianbao points import` of a synthetic CSV on a points store of its own: the
#           ledger holds all of the file's events or none, and its totals (read through the
#           columnar cache) agree with the database.
#
# Usage: benches/kill9.sh
# Environment:
#   BIN               a built nianbao binary (default: build --release into CARGO_TARGET_DIR)
#   CARGO_TARGET_DIR  where the release build goes (default /var/tmp/nianbao-target-release)
#   RUNS              number of kills (default 100)
#   MODES             the writes to take turns with (default "import accept web points")
#   SAVES             saves per web run (default 4)
#   POINTS_EVENTS     events in the points CSV (default 60000, about 1 s in release)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
RUNS=${RUNS:-100}
read -r -a MODE_LIST <<<"${MODES:-import accept web points}"
SAVES=${SAVES:-4}
POINTS_EVENTS=${POINTS_EVENTS:-60000}
WARNING="students.stock-flow:2024:电子商务"
USER_NAME="断电质量办"
PASSWORD="kill9-password-2025"
SECTION=1.5
POINTS_SCHOOL=KILL9

for mode in "${MODE_LIST[@]}"; do
    case $mode in
    import | accept | web | points) ;;
    *)
        echo "未知的写入方式「$mode」：应为 import、accept、web 或 points" >&2
        exit 1
        ;;
    esac
done
has_mode() { [[ " ${MODE_LIST[*]} " == *" $1 "* ]]; }
command -v sqlite3 >/dev/null || { echo "需要 sqlite3：apt-get install sqlite3" >&2; exit 1; }
if has_mode web; then
    command -v curl >/dev/null || { echo "需要 curl：apt-get install curl" >&2; exit 1; }
fi
if [[ -z "${BIN:-}" ]]; then
    echo "== 构建（release）" >&2
    cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml"
    BIN="$CARGO_TARGET_DIR/release/nianbao"
fi

WORK=$(mktemp -d)
VICTIM="" SERVER="" CLIENT=""
cleanup() {
    local pid
    for pid in "$VICTIM" "$SERVER" "$CLIENT"; do
        if [[ -n "$pid" ]]; then
            kill -9 "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# How long a command takes here, so kills land during the work.
ms_of() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# Sleeps a random time between 0 and 1.2 times LIMIT-MS; prints the delay in ms.
random_pause() {
    local delay=$((RANDOM * 32768 + RANDOM))
    delay=$((delay % ($1 * 6 / 5 + 1)))
    sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
    echo "$delay"
}

# Two versions of the sample that differ in many facts (every 2025 figure of section 1.4
# and the land area), so a half-applied import would show.
cp -r "$ROOT/examples/qianjiang" "$WORK/dsA"
cp -r "$ROOT/examples/qianjiang" "$WORK/dsB"
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
VERSIONS=(A B)

# --- The web save: a server on a store, a signed-in session, section 1.5's form. ---

# Starts `nianbao serve` on DB at a free port; sets SERVER and BASE.
start_server() {
    local log="$WORK/server.log"
    : >"$log"
    "$BIN" --db "$1" serve --addr 127.0.0.1:0 2>"$log" &
    SERVER=$!
    BASE=""
    for _ in $(seq 1 400); do
        BASE=$(sed -n 's/.*年报网页服务已启动：\(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
        [[ -n "$BASE" ]] && return 0
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.05
    done
    echo "服务未启动：" >&2
    cat "$log" >&2
    exit 1
}

stop_server() {
    kill -9 "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
}

# The urlencoded body of a save of every field in fields.tsv (key, value in A, value in W)
# from the value in column FROM to the value in column TO.
form_body() {
    LC_ALL=C awk -F'\t' -v from="$1" -v to="$2" '
        BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
        function enc(s,   out, i, c) {
            out = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                out = out (c ~ /[A-Za-z0-9._~-]/ ? c : sprintf("%%%02X", ord[c]))
            }
            return out
        }
        { printf "%s%s=%s&%s=%s", (NR > 1 ? "&" : ""), enc("o|" $1), $from, enc("v|" $1), $to }
    ' "$WORK/fields.tsv"
}

# Saves section 1.5 up to COUNT times, starting from version FROM and moving every field to
# the other version each time (A→W, W→A, …), until a save does not answer 303. Prints one
# HTTP status a line (000: no answer).
save_loop() {
    local from=$1 count=$2 i status
    for ((i = 0; i < count; i++)); do
        status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
            -H "Cookie: nianbao_session=$SESSION" --data-urlencode "csrf=$CSRF" \
            --data-binary @"$WORK/form-$from" "$BASE/schools/$CODE/sections/$SECTION") || true
        echo "$status"
        [[ $status == 303 ]] || break
        from=$([[ $from == A ]] && echo W || echo A)
    done
}

# A query's answer, or sqlite3's error as the answer (which then fails the comparison).
sql() { sqlite3 -separator ' ' "$@" 2>&1 || true; }

web_saves_logged() {
    sql "$DB" "SELECT COUNT(*) FROM change_log WHERE entity = 'fact' AND actor = '$USER_NAME'"
}

if has_mode web; then
    # Sign in once on the store, as a browser would (the session is kept in the store, so it
    # holds across the server's restarts), and read the section's form in version A.
    printf '%s\n' "$PASSWORD" | "$BIN" --db "$DB" user add --name "$USER_NAME" --role quality >/dev/null
    CODE=$("$BIN" --db "$DB" schools | head -n 1 | cut -f 1)
    start_server "$DB"
    jar="$WORK/cookies.txt"
    curl -sS -c "$jar" -b "$jar" -o "$WORK/login.html" "$BASE/login"
    csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | head -n 1)
    status=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrf=$csrf" --data-urlencode "name=$USER_NAME" \
        --data-urlencode "password=$PASSWORD" "$BASE/login")
    [[ "$status" == 303 ]] || { echo "登录失败：HTTP $status" >&2; exit 1; }
    SESSION=$(awk '$6 == "nianbao_session" { print $7 }' "$jar")
    curl -sS -o "$WORK/section.html" -H "Cookie: nianbao_session=$SESSION" \
        "$BASE/schools/$CODE/sections/$SECTION"
    stop_server
    CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/section.html" | head -n 1)
    # Every 2025 field holding a whole number: its key, its value (A) and that plus one (W).
    grep -o 'name="o|2025|[^"]*" value="[0-9]\+"' "$WORK/section.html" |
        sed -E 's/^name="o\|([^"]*)" value="([0-9]+)"$/\1\t\2/' |
        awk -F'\t' '{ print $1 "\t" $2 "\t" $2 + 1 }' >"$WORK/fields.tsv"
    FIELDS=$(wc -l <"$WORK/fields.tsv")
    ((FIELDS >= 20)) || { echo "第 $SECTION 节只找到 $FIELDS 个整数栏目" >&2; exit 1; }
    # Column 2 holds A, column 3 holds W: form-A moves A to W, form-W moves W back.
    form_body 2 3 >"$WORK/form-A"
    form_body 3 2 >"$WORK/form-W"

    # Version W as the store gives it back, by one save on a copy of the store; its time.
    sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$DB" "$WORK/refW.db"
    start_server "$WORK/refW.db"
    start=$(date +%s%N)
    saved=$(save_loop A 1)
    save_ms=$((($(date +%s%N) - start) / 1000000 + 1))
    stop_server
    [[ $saved == 303 ]] || { echo "第 $SECTION 节保存失败：HTTP $saved" >&2; exit 1; }
    "$BIN" --db "$WORK/refW.db" export "$WORK/exportW" >/dev/null
    diff -rq "$WORK/exportA" "$WORK/exportW" >/dev/null && { echo "网页保存前后导出相同" >&2; exit 1; }
    VERSIONS+=(W)
    echo "== 网页保存：第 $SECTION 节 $FIELDS 项数据一次保存，约 ${save_ms} ms；每次连续保存 $SAVES 次" >&2
fi

# --- The points import: a store of its own with a roster, a tree, terms and a CSV. ---
PDB="$WORK/points.db"
fresh_points_store() {
    rm -rf "$PDB" "$PDB"-* "$PDB".*
    cp "$WORK/points-template.db" "$PDB"
    if [[ -d "$WORK/points-template.db.points-cache" ]]; then
        cp -r "$WORK/points-template.db.points-cache" "$PDB.points-cache"
    fi
}
POINTS_IMPORT=("$BIN" --db "$PDB" points --school "$POINTS_SCHOOL" import "$WORK/events.csv")
if has_mode points; then
    "$BIN" --db "$WORK/points-template.db" points --school "$POINTS_SCHOOL" synth \
        --students 2000 --events "$POINTS_EVENTS" --seed 9 --csv "$WORK/events.csv" >/dev/null
    sqlite3 "$WORK/points-template.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    EVENTS=$(($(wc -l <"$WORK/events.csv") - 1))
    fresh_points_store
    points_ms=$(ms_of "${POINTS_IMPORT[@]}")
    recorded=$(sqlite3 "$PDB" "SELECT COUNT(*) FROM points_event")
    [[ $recorded == "$EVENTS" ]] || { echo "积分导入只记录了 $recorded / $EVENTS 条" >&2; exit 1; }
    fresh_points_store
    echo "== 积分导入：$EVENTS 条事件约 ${points_ms} ms" >&2
fi

import_ms=$(ms_of "$BIN" --db "$WORK/refA.db" import --allow-deletions "$WORK/dsB")
accept_ms=$(ms_of "$BIN" --db "$WORK/refA.db" accept "$WARNING" --because "计时")
echo "== 一次导入约 ${import_ms} ms，一次接受约 ${accept_ms} ms；在 0 到 1.2 倍用时之间随机时刻 kill -9，共 $RUNS 次（${MODE_LIST[*]} 轮流）" >&2

# Which version the store's export equals (empty when none).
version_now() {
    local v
    for v in "${VERSIONS[@]}"; do
        if diff -rq "$WORK/now" "$WORK/export$v" >/dev/null; then
            echo "$v"
            return
        fi
    done
}

killed=0 finished=0 failures=0
old=0 new=0 accepted=0 not_accepted=0
web_runs=0 web_saves_answered=0 web_saves_committed=0 web_unanswered_committed=0
points_all=0 points_none=0
fail() {
    echo "第 $run 次（$kind，${delay} ms 后）：$*" >&2
    failures=$((failures + 1))
}
for run in $(seq 1 "$RUNS"); do
    kind=${MODE_LIST[$(((run - 1) % ${#MODE_LIST[@]}))]}
    delay=0
    case $kind in
    import)
        target=$([[ $state == B ]] && echo A || echo B)
        "$BIN" --db "$DB" import --allow-deletions "$WORK/ds$target" >/dev/null 2>&1 &
        VICTIM=$!
        delay=$(random_pause "$import_ms")
        ;;
    accept)
        "$BIN" --db "$DB" accept "$WARNING" --because "说明$run" >/dev/null 2>&1 &
        VICTIM=$!
        delay=$(random_pause "$accept_ms")
        ;;
    web)
        if [[ $state == B ]]; then
            # The form moves A to W and back: start from A (this import is not killed).
            "$BIN" --db "$DB" import --allow-deletions "$WORK/dsA" >/dev/null
            state=A
        fi
        logged_before=$(web_saves_logged)
        start_server "$DB"
        save_loop "$state" "$SAVES" >"$WORK/statuses" &
        CLIENT=$!
        VICTIM=$SERVER
        delay=$(random_pause $((save_ms * SAVES)))
        ;;
    points)
        [[ -f "$PDB" ]] || fresh_points_store
        "${POINTS_IMPORT[@]}" >/dev/null 2>&1 &
        VICTIM=$!
        delay=$(random_pause "$points_ms")
        ;;
    esac
    if [[ $kind == web ]]; then
        # The server never ends by itself: what counts is whether the saves were done.
        if kill -0 "$CLIENT" 2>/dev/null; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
        stop_server
        wait "$CLIENT" 2>/dev/null || true
        CLIENT=""
    elif kill -9 "$VICTIM" 2>/dev/null; then
        killed=$((killed + 1))
    else
        finished=$((finished + 1))
    fi
    wait "$VICTIM" 2>/dev/null || true
    VICTIM=""

    if [[ $kind == points ]]; then
        check=$(sql "$PDB" "PRAGMA integrity_check" 2>&1)
        if [[ "$check" != ok ]]; then
            fail "积分库 integrity_check 失败：$check"
            fresh_points_store
            continue
        fi
        read -r count total < <(sql "$PDB" \
            "SELECT COUNT(*), COALESCE(SUM(value), 0) FROM points_event")
        batches=$(sql "$PDB" "SELECT COUNT(*), COALESCE(SUM(events), 0) FROM points_batch")
        if [[ $count == 0 && $batches == "0 0" ]]; then
            points_none=$((points_none + 1))
        elif [[ $count == "$EVENTS" && $batches == "1 $EVENTS" ]]; then
            points_all=$((points_all + 1))
        else
            fail "积分事件 $count / $EVENTS 条，导入批次（批数、事件数）$batches"
        fi
        # The ledger as the commands read it (columnar cache plus what the database added).
        if ! "$BIN" --db "$PDB" points --school "$POINTS_SCHOOL" summary --group school --by total \
            --format json >"$WORK/summary.json" 2>"$WORK/summary.err"; then
            fail "积分账本无法读取：$(cat "$WORK/summary.err")"
        else
            seen_events=$(sed -n 's/^ *"events": \([0-9]*\),$/\1/p' "$WORK/summary.json" | head -n 1)
            seen_total=$(sed -n 's/^ *"total": \(-\?[0-9]*\),$/\1/p' "$WORK/summary.json" | head -n 1)
            if [[ "$seen_events $seen_total" != "$count $total" ]]; then
                fail "积分汇总（${seen_events:-?} 条，总分 ${seen_total:-?}）与数据库（$count 条，总分 $total）不符"
            fi
        fi
        # A complete import cannot be repeated (its event numbers are taken): start afresh.
        [[ $count == 0 ]] || fresh_points_store
        continue
    fi

    check=$(sql "$DB" "PRAGMA integrity_check" 2>&1)
    if [[ "$check" != ok ]]; then
        fail "integrity_check 失败：$check"
        continue
    fi
    rm -rf "$WORK/now"
    if ! "$BIN" --db "$DB" export "$WORK/now" >/dev/null 2>"$WORK/export.err"; then
        fail "数据库无法导出：$(cat "$WORK/export.err")"
        continue
    fi
    now=$(version_now)
    if [[ -z "$now" ]]; then
        fail "数据既不是旧版本也不是新版本："
        diff -r "$WORK/now" "$WORK/exportA" | head -n 20 >&2 || true
        continue
    fi
    case $kind in
    import)
        if [[ $now == "$state" ]]; then
            old=$((old + 1))
        elif [[ $now == "$target" ]]; then
            new=$((new + 1))
        else
            fail "从 $state 导入 $target，结果却是 $now"
        fi
        ;;
    accept)
        if [[ $now != "$state" ]]; then
            fail "接受说明改变了数据"
        else
            # The acceptance and its change-log line are written together or not at all.
            rows=$(sql "$DB" "SELECT COUNT(*) FROM acceptance WHERE explanation = '说明$run'")
            logged=$(sql "$DB" "SELECT COUNT(*) FROM change_log WHERE entity = 'acceptance' AND new_value = '说明$run'")
            if [[ "$rows" != "$logged" ]]; then
                fail "接受表 $rows 行，变更记录 $logged 行"
            elif [[ "$rows" == 1 ]]; then
                accepted=$((accepted + 1))
            else
                not_accepted=$((not_accepted + 1))
            fi
        fi
        ;;
    web)
        web_runs=$((web_runs + 1))
        answered=$(grep -c '^303$' "$WORK/statuses" || true)
        others=$(grep -v -e '^303$' -e '^000$' "$WORK/statuses" | tr '\n' ' ' || true)
        logged=$(($(web_saves_logged) - logged_before))
        committed=$((logged / FIELDS))
        flips=$([[ $now == "$state" ]] && echo 0 || echo 1)
        if [[ -n "$others" ]]; then
            fail "网页保存得到 HTTP $others"
        elif ((logged % FIELDS != 0)); then
            fail "变更记录多了 $logged 行，不是每次保存 $FIELDS 行的整数倍"
        elif ((committed < answered || committed > answered + 1)); then
            fail "服务答复保存成功 $answered 次，数据库里却有 $committed 次"
        elif ((committed % 2 != flips)); then
            fail "保存了 $committed 次，数据却是版本 $now（起初为 $state）"
        elif [[ $now != A && $now != W ]]; then
            fail "网页保存后数据是版本 $now"
        else
            web_saves_answered=$((web_saves_answered + answered))
            web_saves_committed=$((web_saves_committed + committed))
            web_unanswered_committed=$((web_unanswered_committed + committed - answered))
        fi
        ;;
    esac
    state=$now
done

echo
echo "== 汇总：$RUNS 次写入，$killed 次被 kill -9，$finished 次在 kill 前已结束"
has_mode import && echo "导入：$old 次保持旧数据，$new 次完整换成新数据"
has_mode accept && echo "接受：$accepted 次完整保存，$not_accepted 次完全没有保存"
has_mode web && echo "网页保存：$web_runs 次杀掉服务，答复成功的 $web_saves_answered 次保存都在库中；库中共 $web_saves_committed 次完整保存（$web_unanswered_committed 次已写入但服务未及答复），没有半次"
has_mode points && echo "积分导入：$points_all 次 $EVENTS 条全部记录，$points_none 次一条也没有"
echo "完整性检查失败或数据半新半旧：$failures 次"
[[ $failures == 0 ]]
