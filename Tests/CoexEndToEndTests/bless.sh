#!/usr/bin/env bash
# (Re)writes expected/ of golden end-to-end cases from a real run of their `cmd`.
#
#   Tests/CoexEndToEndTests/bless.sh [--file NAME]... [--sha256] CASE...
#
# CASE is a case name or its folder. The command runs as the test runs it: in a scratch copy of
# the case folder (without expected/), `bash -o pipefail -c CMD`, stdin /dev/null, the built
# executables first on PATH (COEX_BIN_DIR, default .build/debug of the package), TZ=UTC, LC_ALL=C.
# Writes expected/stdout (or expected/stdout.sha256 with --sha256, or when the case already has
# one), expected/stderr, expected/exit, and expected/files/NAME for every file already listed
# there plus each --file NAME.
#
# A golden file is only worth what its review was: READ every expected file this writes and check
# it against the issue and docs/records.md before committing it; `git diff` shows what changed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${COEX_BIN_DIR:-$root/.build/debug}"
if [ ! -x "$bin/coex-validate" ]; then
    echo "bless.sh: no executable coex-validate in $bin (run swift build, or set COEX_BIN_DIR)" >&2
    exit 2
fi
bin="$(cd "$bin" && pwd)"

extra_files=()
sha=0
cases=()
while [ $# -gt 0 ]; do
    case "$1" in
        --file) extra_files+=("$2"); shift 2 ;;
        --sha256) sha=1; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) cases+=("$1"); shift ;;
    esac
done
if [ ${#cases[@]} -eq 0 ]; then
    echo "usage: bless.sh [--file NAME]... [--sha256] CASE..." >&2
    exit 2
fi

for c in "${cases[@]}"; do
    if [ -d "$c" ]; then dir="$(cd "$c" && pwd)"; else dir="$here/Cases/$c"; fi
    name="$(basename "$dir")"
    if [ ! -f "$dir/cmd" ]; then
        echo "bless.sh: $dir has no cmd" >&2
        exit 2
    fi
    scratch="$(mktemp -d)"
    work="$scratch/$name"
    mkdir "$work"
    for item in "$dir"/* "$dir"/.[!.]*; do
        [ -e "$item" ] || continue
        [ "$(basename "$item")" = expected ] && continue
        cp -R "$item" "$work/"
    done
    cmd="$(cat "$dir/cmd")"
    set +e
    (cd "$work" && env PATH="$bin:$PATH" TZ=UTC LC_ALL=C \
        timeout -k 10 300 bash -o pipefail -c "$cmd" </dev/null >"$scratch/stdout" 2>"$scratch/stderr")
    rc=$?
    set -e

    exp="$dir/expected"
    mkdir -p "$exp"
    echo "$rc" >"$exp/exit"
    cp "$scratch/stderr" "$exp/stderr"
    if [ "$sha" = 1 ] || { [ -f "$exp/stdout.sha256" ] && [ ! -f "$exp/stdout" ]; }; then
        sha256sum "$scratch/stdout" | cut -d' ' -f1 >"$exp/stdout.sha256"
        rm -f "$exp/stdout"
    else
        cp "$scratch/stdout" "$exp/stdout"
        rm -f "$exp/stdout.sha256"
    fi
    files=()
    if [ -d "$exp/files" ]; then
        for f in "$exp/files"/*; do [ -e "$f" ] && files+=("$(basename "$f")"); done
    fi
    for f in "${extra_files[@]+"${extra_files[@]}"}"; do
        case " ${files[*]+${files[*]}} " in *" $f "*) ;; *) files+=("$f") ;; esac
    done
    for f in "${files[@]+"${files[@]}"}"; do
        mkdir -p "$exp/files"
        if [ -f "$work/$f" ]; then
            cp "$work/$f" "$exp/files/$f"
        else
            echo "bless.sh: $name: the command produced no file $f" >&2
            rm -f "$exp/files/$f"
        fi
    done
    rmdir "$exp/files" 2>/dev/null || true
    echo "$name: exit $rc, stdout $(wc -c <"$scratch/stdout") bytes, stderr $(wc -l <"$scratch/stderr") lines${files[*]+, files: ${files[*]}}"
    rm -rf "$scratch"
done
echo "now READ what changed under expected/ (git diff) and check it before committing" >&2
