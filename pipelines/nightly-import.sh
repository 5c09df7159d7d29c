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
# Exit status: the worst of the stages' (0 success, 1 failed, 2 past the reject limit
# COEX_MAX_REJECTS, default 10%, 3 empty input; see coex-validate --help); the databases and
# the report hold the good records whatever it is.
# COEX_APP_SECRET_FILE=F re-verifies every line of captures written by `coex capture` against
# the signature recorded beside it (docs/capture.md); a line that does not verify is a reject.
# Uses the release build in .build/release (swift build -c release), or COEX_BIN.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CAPTURES... OUTDIR" >&2
    exit 64
fi
out="${*: -1}"
captures=("${@:1:$#-1}")
bin="${COEX_BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release}"
# Every stage's reject limit (coex-validate --help): COEX_MAX_REJECTS=0 fails on any reject.
limit=(--max-rejects "${COEX_MAX_REJECTS:-10%}")
verify=()
if [ -n "${COEX_APP_SECRET_FILE:-}" ]; then verify=(--app-secret-file "$COEX_APP_SECRET_FILE"); fi

mkdir -p "$out"
: > "$out/rejects.ndjson"
set +e
"$bin/coex-validate" "${limit[@]}" ${verify[@]+"${verify[@]}"} --rejects "$out/rejects.ndjson" "${captures[@]}" \
    | "$bin/coex-normalize" "${limit[@]}" --rejects "$out/rejects.ndjson" \
    | "$bin/coex-dedupe" "${limit[@]}" --rejects "$out/rejects.ndjson" \
    | "$bin/coex-order" "${limit[@]}" --rejects "$out/rejects.ndjson" \
    | "$bin/coex-apply" "${limit[@]}" --rejects "$out/rejects.ndjson" \
    | tee "$out/state.ndjson.tmp" \
    | "$bin/coex-load" "${limit[@]}" --rejects "$out/rejects.ndjson" --out-dir "$out/db" \
        "${captures[@]/#/--recorded-input=}"
statuses=("${PIPESTATUS[@]}")
set -e
# The night's status is the worst of the stages' (each stage's --help lists them): a usage
# error or a signal, then 1 failed, then 2 too many rejects, then 3 empty input.
rank() { case "$1" in 0) echo 0 ;; 3) echo 1 ;; 2) echo 2 ;; 1) echo 3 ;; *) echo 4 ;; esac; }
status=0
for s in "${statuses[@]}"; do
    if [ "$(rank "$s")" -gt "$(rank "$status")" ]; then status=$s; fi
done
mv "$out/state.ndjson.tmp" "$out/state.ndjson"
echo "$out/state.ndjson: $(wc -l < "$out/state.ndjson") records; $out/rejects.ndjson: $(wc -l < "$out/rejects.ndjson") rejects" >&2
# The good records are in the databases whatever the status: report them all the same.
if [ -d "$out/db" ]; then "$bin/coex-report" --out-dir "$out/db" || { [ "$status" -eq 0 ] && status=1; }; fi
if [ "$status" -ne 0 ]; then echo "$0: exit $status (stage statuses: ${statuses[*]})" >&2; fi
exit "$status"
