#!/usr/bin/env bash
# The auditor on hostile and large files: time and peak memory (/usr/bin/time -v) of
# auditing each, median of 3 runs, with the exit status and the first line of any error.
#   numbers.txt   100,000 lines of one number each
#   nested.html   20,000 nested <table><tr><td>
#   bomb.docx     a Word file whose document.xml inflates to 3 GiB
#   line.txt      one line of 5 MB of prose with numbers
#   big.txt       51 MB of text (over the 50 MB bound)
#   real-10mb.txt a real report repeated to 10 MB (the file given, default the sample report
#                 in ../shared), and real-48mb.txt the same to 48 MB; their MB/s are printed
#
# Usage: benches/audit-hostile.sh [REPORT.txt]
# Environment: CARGO_TARGET_DIR (release build; default /var/tmp/nianbao-target-release)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nianbao-target-release}
REPORT=${1:-$ROOT/../shared/seeds/qianjiang-2025-quality-report.txt}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== 构建（release，审核示例程序：与 nianbao audit 同一读取与核查代码）" >&2
cargo build --release -p nianbao-audit --example audit --manifest-path "$ROOT/Cargo.toml" >&2
BIN="$CARGO_TARGET_DIR/release/examples/audit"

echo "== 生成文件" >&2
python3 - "$WORK" "$REPORT" <<'PY'
import os, sys, zipfile
work, report = sys.argv[1], sys.argv[2]
def path(name): return os.path.join(work, name)
with open(path('numbers.txt'), 'w') as f:
    f.write(''.join(f'在校生 {i} 人\n' for i in range(100000)))
with open(path('nested.html'), 'w') as f:
    f.write('<html><body>' + '<table><tr><td>' * 20000 + '1' + '</td></tr></table>' * 20000 + '</body></html>')
piece = '学校共有教师12人，学生300人，实训设备价值1.5万元'
with open(path('line.txt'), 'w') as f:
    line = piece * (5_000_000 // len(piece.encode()) + 1)
    f.write(line.encode()[:5_000_000].decode('utf-8', 'ignore') + '\n')
line = '教职工 100 人。\n'.encode()
with open(path('big.txt'), 'wb') as f:
    f.write(line * (51 * 1024 * 1024 // len(line) + 1))
with zipfile.ZipFile(path('bomb.docx'), 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr('[Content_Types].xml', '<Types/>')
    with z.open('word/document.xml', 'w', force_zip64=True) as f:
        f.write(b'<w:document><w:body>')
        chunk = b'<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>' * 16384
        for _ in range((3 << 30) // len(chunk)):
            f.write(chunk)
        f.write(b'</w:body></w:document>')
if os.path.exists(report):
    text = open(report, encoding='utf-8').read()
    out, size = [], 0
    while size < 10_000_000:
        out.append(text); size += len(text.encode())
    with open(path('real-10mb.txt'), 'w') as f:
        f.write(''.join(out))
    with open(path('real-48mb.txt'), 'w') as f:
        f.write(''.join(out) * 4 + text * ((8_000_000) // len(text.encode())))
else:
    print(f'未找到报告 {report}：跳过 real-10mb.txt', file=sys.stderr)
PY
ls -l "$WORK" | awk 'NR > 1 { printf "%-14s %12d 字节\n", $9, $5 }'

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf '%-14s %10s %10s %12s %6s  %s\n' 文件 秒（中位） CPU秒 峰值内存MB 退出 信息
for name in numbers.txt nested.html bomb.docx line.txt big.txt real-10mb.txt real-48mb.txt; do
    file="$WORK/$name"
    [ -f "$file" ] || continue
    : > "$WORK/times"; : > "$WORK/rss"; : > "$WORK/cpu"
    for _ in 1 2 3; do
        set +e
        /usr/bin/time -v "$BIN" "$file" > "$WORK/out" 2> "$WORK/err"
        status=$?
        set -e
        grep "Elapsed (wall clock)" "$WORK/err" | awk '{ n = split($NF, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' >> "$WORK/times"
        grep "Maximum resident" "$WORK/err" | awk '{ printf "%.1f\n", $NF / 1024 }' >> "$WORK/rss"
        grep -E "(User|System) time" "$WORK/err" | awk '{ s += $NF } END { printf "%.2f\n", s }' >> "$WORK/cpu"
    done
    seconds=$(median < "$WORK/times")
    rss=$(median < "$WORK/rss")
    cpu=$(median < "$WORK/cpu")
    note=$(grep -v -E "^\s|Command (exited|terminated)" "$WORK/err" | head -n 1 | cut -c1-120 || true)
    [ -n "$note" ] || note="$(grep -c '' "$WORK/out") 行结果"
    printf '%-14s %10s %10s %12s %6s  %s\n' "$name" "$seconds" "$cpu" "$rss" "$status" "$note"
    case "$name" in real-*)
        bytes=$(stat -c %s "$file")
        echo "$name $bytes $seconds $cpu" | awk '{ printf "%s 吞吐：%.1f MB/s（按 CPU 时间 %.1f MB/s）\n", $1, $2 / 1e6 / $3, $2 / 1e6 / $4 }'
    esac
done
