#!/usr/bin/env bash
# Compliance archives of every business database of an ingest:
#   pipelines/compliance-export.sh OUTDIR EXPORTDIR [-- COEX-EXPORT-ARGS...]
# For every OUTDIR/db/<waba_id>.sqlite (as pipelines/nightly-import.sh writes them; OUTDIR/*.sqlite when
# OUTDIR has no db/ folder) writes EXPORTDIR/<waba_id>.tar.zst with coex-export (docs/export.md).
# Arguments after `--` go to every coex-export run, e.g. `-- --since 2026-01-01 --redact-revoked`.
# Each archive is complete or absent; the first failing export stops the run with its exit
# status (1 a failed export, 64 a usage error such as a bad --since).
# Uses the release build in .build/release (swift build -c release), or COEX_BIN.
set -euo pipefail

if [ $# -lt 2 ] || { [ $# -gt 2 ] && [ "$3" != "--" ]; }; then
    echo "usage: $0 OUTDIR EXPORTDIR [-- COEX-EXPORT-ARGS...]" >&2
    exit 64
fi
out="$1"
exports="$2"
shift 2
[ $# -gt 0 ] && shift
bin="${COEX_BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release}"

if [ -d "$out/db" ]; then dbdir="$out/db"; else dbdir="$out"; fi
shopt -s nullglob
databases=("$dbdir"/*.sqlite)
if [ ${#databases[@]} -eq 0 ]; then
    echo "$0: no databases (*.sqlite) in $dbdir" >&2
    exit 1
fi

mkdir -p "$exports"
for db in "${databases[@]}"; do
    waba="$(basename "$db" .sqlite)"
    "$bin/coex-export" --db "$db" --out "$exports/$waba.tar.zst" "$@"
done
echo "$exports: ${#databases[@]} archive(s)" >&2
