#!/usr/bin/env bash
# The databases open in datasette with their views and search index (issue: "ready to browse
# and search"). Usage: Tests/browse/datasette-check.sh DATASETTE [BIN_DIR]
# Imports the samples with coex (BIN_DIR, default .build/debug), then asks datasette for the
# database, the views and a full-text search, and checks the JSON. Exits 1 on the first failure.
set -euo pipefail
datasette=$1
bin=${2:-.build/debug}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/coex" import samples/night1.ndjson samples/night2.ndjson --out-dir "$work/db" --rejects "$work/rejects.ndjson" 2>/dev/null
db="$work/db/403958172640285.sqlite"
get() { "$datasette" "$db" --get "$1"; }
fail() { echo "datasette-check: $*" >&2; exit 1; }

index=$(get /403958172640285.json)
for view in chats transcript api_messages; do
    jq -e --arg v "$view" '[.views[].name] | index($v) != null' <<<"$index" >/dev/null || fail "view $view not listed"
done
jq -e '.tables[] | select(.name == "message_search") | .fts_table == "message_search"' <<<"$index" >/dev/null \
    || fail "message_search is not shown as a full-text table"

# An edited message is found by the word of its original text.
found=$(get '/403958172640285/message_search.json?_search=Brezeln&_shape=array')
jq -e 'length == 1 and .[0].version == 0 and (.[0].body | contains("Brezeln"))' <<<"$found" >/dev/null \
    || fail "search for an edited-away word: $found"

chats=$(get '/403958172640285/chats.json?_shape=array&chat=4917612345678')
jq -e 'length == 1 and .[0].contact_name == "Jonas Becker" and .[0].api_sent == 1 and .[0].window_state == "open"' \
    <<<"$chats" >/dev/null || fail "chats view: $chats"

api=$(get '/403958172640285/api_messages.json?_shape=array')
jq -e 'length == 5 and ([.[] | select(.status == "failed")] | length) == 1' <<<"$api" >/dev/null \
    || fail "api_messages view: $api"

transcript=$(get '/403958172640285/transcript.json?_shape=array&chat=4917612345678&_sort=timestamp')
jq -e '.[0].time == "2026-01-14T08:02:11Z" and ([.[] | select(.origin == "api")] | length) == 1' \
    <<<"$transcript" >/dev/null || fail "transcript view: $transcript"
echo "datasette-check: views chats, transcript, api_messages and the search index message_search browse in $("$datasette" --version)"
