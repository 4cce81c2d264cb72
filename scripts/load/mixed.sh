#!/usr/bin/env bash
# Legitimate and hostile traffic at once for 30 s; prints the legitimate latency (p50, p99),
# what the hostile clients got, and /livez meanwhile. Numbers go in BENCHMARKS.md.
#
#   scripts/load/mixed.sh            # builds the release binary, SQLite, port 18002
#
# - legitimate: one signed-in client, 4 connections, the cached 15-year runBacktest summary
#   (scripts/load/cached.lua), back to back (its own rate limit is off: wrk is not a person);
# - hostile: 8 connections sending the shapes of hostile_mix.lua, each request from a new
#   address through the trusted proxy, so only the cost analysis stands in their way;
# - idle flood: 3,000 sockets that never send a byte, against a connection cap of 1,024;
#   re-opened as fast as the server closes them (FLOOD_REOPEN=1, the default) or held once
#   (FLOOD_REOPEN=0);
# - /livez probed with curl every 100 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18002}
SECONDS_RUN=${SECONDS_RUN:-30}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d); SERVER=""
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
[[ -n "${SKIP_BUILD:-}" ]] || cargo build -q --release -p api
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/margin-api
export DATABASE_URL="sqlite://$WORK/mixed.sqlite?mode=rwc" MARGIN_BIND=127.0.0.1:$PORT RUST_LOG=error \
  MARGIN_DATA_DIR=${MARGIN_DATA_DIR:-./data} MARGIN_TRUSTED_PROXIES=127.0.0.1 \
  MARGIN_MAX_CONNECTIONS=1024 MARGIN_RATE_REQUESTS_PER_MIN=0 MARGIN_RATE_ENGINE_RUNS_PER_MIN=0
printf '%s\n' 'load-test-password-123' | $BIN create-admin --email load@example.com --username load --password-stdin >/dev/null
ulimit -n 8192
$BIN serve >"$WORK/server.log" 2>&1 & SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/livez" >/dev/null && break; sleep 0.1; done
gql() { curl -s -H 'content-type: application/json' ${TOKEN:+-H "authorization: Bearer $TOKEN"} -d "$1" "$BASE/graphql"; }
TOKEN=$(gql '{"query":"mutation { login(email: \"load@example.com\", password: \"load-test-password-123\") { token } }"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
export TOKEN
gql "$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' scripts/load/cached.lua)" >/dev/null

python3 scripts/load/idle_flood.py 127.0.0.1 "$PORT" 3000 "$SECONDS_RUN" "${FLOOD_REOPEN:-1}" >"$WORK/flood.txt" &
FLOOD=$!
wrk -t1 -c8 -d"${SECONDS_RUN}s" -s scripts/load/hostile_mix.lua "$BASE" >"$WORK/hostile.txt" &
HOSTILE=$!
( end=$((SECONDS + SECONDS_RUN)); while (( SECONDS < end )); do
    curl -s -o /dev/null -w '%{time_total}\n' --max-time 10 "$BASE/livez" || echo 10; sleep 0.1
  done ) >"$WORK/livez.txt" &
LIVEZ=$!
echo "== legitimate: cached runBacktest, signed in (wrk -t1 -c4 -d${SECONDS_RUN}s)"
wrk -t1 -c4 -d"${SECONDS_RUN}s" --latency -s scripts/load/cached.lua "$BASE" \
  | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx|Socket errors"
wait $HOSTILE $FLOOD $LIVEZ
echo "== hostile (wrk -t1 -c8): $(grep -E 'requests in' "$WORK/hostile.txt" | xargs); $(grep -E 'Non-2xx' "$WORK/hostile.txt" | xargs)"
cat "$WORK/flood.txt"
sort -n "$WORK/livez.txt" | awk '{a[NR]=$1} END {printf "/livez: %d probes, median %.1f ms, p99 %.1f ms, worst %.1f ms\n", NR, a[int((NR+1)/2)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}'
echo "server RSS at the end: $(awk '/VmRSS/ {print $2 " kB"}' /proc/$SERVER/status)"
