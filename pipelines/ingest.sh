#!/usr/bin/env bash
# Validate and normalize captures in one pipe:
#   pipelines/ingest.sh CAPTURES... OUTDIR
# writes OUTDIR/records.ndjson (one record per fact, docs/records.md) and keeps the rejects
# next to it in OUTDIR/rejects.ndjson. Stage summaries go to stderr.
# Uses the release build in .build/release (swift build -c release), or COEX_BIN.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CAPTURES... OUTDIR" >&2
    exit 64
fi
out="${*: -1}"
captures=("${@:1:$#-1}")
bin="${COEX_BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release}"

mkdir -p "$out"
: > "$out/rejects.ndjson"
"$bin/coex-validate" --rejects "$out/rejects.ndjson" "${captures[@]}" \
    | "$bin/coex-normalize" --rejects "$out/rejects.ndjson" \
    > "$out/records.ndjson.tmp"
mv "$out/records.ndjson.tmp" "$out/records.ndjson"
echo "$out/records.ndjson: $(wc -l < "$out/records.ndjson") records; $out/rejects.ndjson: $(wc -l < "$out/rejects.ndjson") rejects" >&2
