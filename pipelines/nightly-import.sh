#!/usr/bin/env bash
# A night's import, in one pipe of the stage executables:
#   pipelines/nightly-import.sh CAPTURES... OUTDIR
# validate | normalize | dedupe | order | apply | load, writing one SQLite database per business
# in OUTDIR/db/ (docs/schema.md; a later night, or the same night again, loads incrementally),
# OUTDIR/state.ndjson (the night's final records: messages in chat order with edits and revokes
# applied, versions, statuses, contacts, account events, history reports, pending changes;
# docs/records.md) and the rejects next to them in OUTDIR/rejects.ndjson (emptied first). Stage
# summaries go to stderr; then the report of every database (docs/report.md) to stdout.
# `coex import CAPTURES... --out-dir OUTDIR/db --rejects OUTDIR/rejects.ndjson` writes the same
# databases in one process.
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
    | "$bin/coex-dedupe" --rejects "$out/rejects.ndjson" \
    | "$bin/coex-order" --rejects "$out/rejects.ndjson" \
    | "$bin/coex-apply" --rejects "$out/rejects.ndjson" \
    | tee "$out/state.ndjson.tmp" \
    | "$bin/coex-load" --rejects "$out/rejects.ndjson" --out-dir "$out/db" \
        "${captures[@]/#/--recorded-input=}"
mv "$out/state.ndjson.tmp" "$out/state.ndjson"
echo "$out/state.ndjson: $(wc -l < "$out/state.ndjson") records; $out/rejects.ndjson: $(wc -l < "$out/rejects.ndjson") rejects" >&2
"$bin/coex-report" --out-dir "$out/db"
