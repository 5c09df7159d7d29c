#!/usr/bin/env bash
# coex capture under wrk on loopback: signed, real-shaped bodies (the sample webhooks, each
# signed with the app secret) from a pool of keep-alive connections, group-commit fsync on.
# Usage: bench/capture.sh [SECONDS] [CONNECTIONS]     (default 20 s, 64 connections)
#        BODIES=large bench/capture.sh ...   history-chunk webhooks of 1, 2 and 3 MB instead
#        (near Meta's cap: commits fill their 16 MiB, and past 64 MiB waiting a delivery is a
#        503 that Meta would retry, counted as non-200)
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
python3 - "$work/secret" "${BODIES:-samples}" samples/night1.ndjson samples/night2.ndjson > "$work/bodies.lua" <<'PY'
import copy, hmac, hashlib, json, sys
secret = open(sys.argv[1], 'rb').read().strip()
lines = [l.rstrip(b"\n") for path in sys.argv[3:] for l in open(path, 'rb') if l.strip()]
if sys.argv[2] == "large":
    # A sample history chunk, its first thread's messages repeated (new ids) to 1, 2 and 3 MB.
    chunk = json.loads(next(l for l in lines if b'"history"' in l))
    thread = chunk["entry"][0]["changes"][0]["value"]["history"][0]["threads"][0]
    template = thread["messages"]
    bodies = []
    for target in (1 << 20, 2 << 20, 3 << 20):
        grown, n = copy.deepcopy(chunk), 0
        messages = grown["entry"][0]["changes"][0]["value"]["history"][0]["threads"][0]["messages"]
        size = len(json.dumps(grown, separators=(",", ":"), ensure_ascii=False).encode())
        while size < target:
            m = copy.deepcopy(template[n % len(template)])
            n += 1
            m["id"] = "%s.bench%d" % (m["id"], n)
            messages.append(m)
            size += len(json.dumps(m, separators=(",", ":"), ensure_ascii=False).encode()) + 1
        bodies.append(json.dumps(grown, separators=(",", ":"), ensure_ascii=False).encode())
    lines = bodies
print("bodies = {")
for line in lines:
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
