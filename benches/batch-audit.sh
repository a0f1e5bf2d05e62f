#!/usr/bin/env bash
# Batch audit of many hand-written reports: N synthetic schools, one plain-text report each
# (its chapters, its enrolment as the store holds it and a staff figure 10 more than stored),
# zipped; then `nianbao audit-batch ZIP` (every report read, audited and compared with its
# school's data in one process) beside the same work as N processes of
# `nianbao audit FILE --against CODE` (the per-report command), in the same run. Each timing
# is the median of RUNS runs, with CPU time (user + system), peak RSS and the load average.
#
# Usage: benches/batch-audit.sh [N]           (default 200)
# Environment:
#   BIN   the nianbao binary (default: a release build in CARGO_TARGET_DIR)
#   RUNS  runs per measurement (default 3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-200}
RUNS=${RUNS:-3}
if [ -z "${BIN:-}" ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
    cargo build --release -p nianbao --manifest-path "$ROOT/Cargo.toml" >&2
    BIN=$CARGO_TARGET_DIR/release/nianbao
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DB=$WORK/store.db

"$BIN" --db "$DB" synth schools --count "$N" --seed 7 --faults 0 >/dev/null
"$BIN" --db "$DB" indicators --all --format json >"$WORK/indicators.json" 2>/dev/null
python3 - "$WORK" <<'PY'
import json, sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
schools = json.loads((work / "indicators.json").read_text())
chapters = ["学校概况", "人才培养", "服务贡献", "文化传承", "国际合作", "产教融合", "发展保障", "面临挑战"]
numbers = "一二三四五六七八"
reports = work / "reports"
reports.mkdir()
with zipfile.ZipFile(work / "reports.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for s in schools:
        values = {i["id"]: i["values"] for i in s["indicators"]}
        enrolled = next((v for y, v in values.get("enrolled", []) if y == s["year"]), None) or 0
        teachers = next((v for y, v in values.get("full_time_teachers", []) if y == s["year"]), None) or 0
        text = f"{s['name']}\n{s['year']}年职业教育质量年度报告\n\n"
        for k, chapter in enumerate(chapters):
            text += f"{numbers[k]}、{chapter}\n\n"
            if k == 0:
                text += f"学校在校生{enrolled:.0f}人，专任教师{teachers + 10:.0f}人。\n\n"
            else:
                text += "学校持续推进各项工作，成效明显。\n\n"
        name = f"{s['school']}-年报.txt"
        (reports / name).write_text(text)
        z.writestr(name, text)
print(f"{len(schools)} reports", file=sys.stderr)
PY

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label, command...
    local label=$1; shift
    local walls=() cpus=() rss=()
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -v -o "$WORK/time" "$@" >/dev/null 2>&1 || true
        walls+=("$(awk -F': ' '/Elapsed/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$WORK/time")")
        cpus+=("$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$WORK/time")")
        rss+=("$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time")")
    done
    local wall cpu peak
    wall=$(printf '%s\n' "${walls[@]}" | median)
    cpu=$(printf '%s\n' "${cpus[@]}" | median)
    peak=$(printf '%s\n' "${rss[@]}" | median)
    echo "$label: wall ${wall} s, CPU ${cpu} s, peak RSS ${peak} KB, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$wall" >"$WORK/last"
}

measure "audit-batch (one process, $N reports)" "$BIN" --db "$DB" audit-batch "$WORK/reports.zip"
batch=$(cat "$WORK/last")
cat >"$WORK/each.sh" <<SH
#!/usr/bin/env bash
for f in "$WORK"/reports/*.txt; do
    code=\$(basename "\$f" -年报.txt)
    "$BIN" --db "$DB" audit "\$f" --against "\$code" >/dev/null || true
done
SH
chmod +x "$WORK/each.sh"
measure "audit --against ($N processes)" "$WORK/each.sh"
each=$(cat "$WORK/last")
awk -v a="$batch" -v b="$each" 'BEGIN {printf "ratio batch / per-report processes: %.2f\n", a / b}'
"$BIN" --db "$DB" audit-batch "$WORK/reports.zip" 2>/dev/null | grep -m2 "与报送数据不一致："; "$BIN" --db "$DB" audit-batch "$WORK/reports.zip" 2>/dev/null | tail -1
