#!/usr/bin/env bash
# coex capture under wrk on loopback: signed, real-shaped bodies (the sample webhooks, each
# signed with the app secret) from a pool of keep-alive connections, group-commit fsync on.
# Usage: bench/capture.sh [SECONDS] [CONNECTIONS]     (default 20 s, 64 connections)
# Needs a release build (swift build -c release) and wrk (apt-get install wrk). Prints
# deliveries/s, p50/p99 latency, non-200 answers, bytes/s to disk, commits and peak RSS,
# then checks that every stored line verifies (coex-validate --app-secret-file).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-64}
bin=$PWD/.build/release
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/captures"
echo "bench-secret" > "$work/secret"
echo "bench-token" > "$work/token"
# Every sample body, signed (HMAC-SHA256 over its raw bytes), as a wrk script.
python3 - "$work/secret" samples/night1.ndjson samples/night2.ndjson > "$work/bodies.lua" <<'PY'
import hmac, hashlib, sys
secret = open(sys.argv[1], 'rb').read().strip()
print("bodies = {")
for path in sys.argv[2:]:
    for line in open(path, 'rb'):
        line = line.rstrip(b"\n")
        if not line: continue
        sig = hmac.new(secret, line, hashlib.sha256).hexdigest()
        print("{[==[%s]==], \"sha256=%s\"}," % (line.decode(), sig))
print("}")
PY
cat >> "$work/bodies.lua" <<'LUA'
local requests = {}
local n = 0
function init(args)
  for i, b in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/webhook", {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = b[2]}, b[1])
  end
end
function request()
  n = n % #requests + 1
  return requests[n]
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non200=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
"$bin/coex" capture --listen 127.0.0.1:0 --dir "$work/captures" --app-secret-file "$work/secret" \
    --verify-token-file "$work/token" --log-level warning 2> "$work/log" &
pid=$!
"$bin/coex" capture --help > /dev/null
# The port: the log is at warning level, so ask the kernel.
for _ in $(seq 100); do
    port=$(ss -ltnp 2>/dev/null | awk -v p="pid=$pid," '$0 ~ p {split($4, a, ":"); print a[length(a)]; exit}')
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "${port:-}" ] || { cat "$work/log"; echo "coex capture did not listen"; exit 1; }
echo "coex capture $("$bin/coex" --version | cut -d' ' -f2) on 127.0.0.1:$port; wrk: 1 thread, $connections connections, ${seconds}s; $(nproc) cores"
wrk -t 1 -c "$connections" -d "${seconds}s" -s "$work/bodies.lua" "http://127.0.0.1:$port/webhook" > "$work/wrk.txt"
health=$(curl -s "http://127.0.0.1:$port/healthz")
rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid"
result=$(grep '^RESULT' "$work/wrk.txt")
eval "$(echo "$result" | sed 's/^RESULT //')"
bytes=$(echo "$health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
commits=$(echo "$health" | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h["commits"], "%.2f" % h["fsync_ms_mean"], "%.2f" % h["fsync_ms_max"])')
read -r ncommits fsync_mean fsync_max <<< "$commits"
printf 'deliveries/s %.0f   p50 %s ms   p99 %s ms   max %s ms   non-200 %s   socket errors %s\n' \
    "$(echo "$requests / $seconds" | bc -l)" "$p50_ms" "$p99_ms" "$max_ms" "$non200" "$errors"
printf 'to disk %.1f MB/s of bodies   %s commits (%.1f deliveries each, fsync mean %s ms, max %s ms)   peak RSS %s MiB\n' \
    "$(echo "$bytes / 1000000 / $seconds" | bc -l)" "$ncommits" "$(echo "$requests / $ncommits" | bc -l)" "$fsync_mean" "$fsync_max" "$rss"
"$bin/coex-validate" --app-secret-file "$work/secret" "$work/captures"/*.ndjson.zst 2>&1 > /dev/null | grep 'signatures verified'
