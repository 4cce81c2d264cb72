#!/usr/bin/env bash
# Load test of the margin API on this machine. Prints the numbers the README quotes.
#
#   scripts/load.sh                      # SQLite, in-process cache
#   DATABASE_URL='postgres://postgres@127.0.0.1:5432/margin_load?sslmode=disable' \
#     REDIS_URL=redis://127.0.0.1:6379/ PACE_MS=100 scripts/load.sh
#
# Needs `wrk` (apt-get install wrk). Builds the release binary and the ws_load helper, starts
# the server on 127.0.0.1:18000 with a fresh database (SQLite by default; with DATABASE_URL
# the database named there is dropped and re-created), and runs:
#   1. cold runBacktest (15 years, a new input every request), summary only   - latency
#      a. back to back (the cache writer falls behind: results beyond its queue stay in memory)
#      b. one every PACE_MS (default 50) ms: every result also reaches Redis and the table
#         when the writer keeps up (the skipped count says whether it did)
#   2. cached runBacktest (the same input), summary only                      - latency
#   3. savedResults(first: 20) for a user with 50 saved results               - throughput
#   4. 1,000 concurrent backtestProgress subscriptions to one slow run        - server RSS
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18000}
DURATION=${DURATION:-10s}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d); SERVER=""
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

if [[ -z "${SKIP_BUILD:-}" ]]; then
  cargo build -q --release -p api
  cargo build -q --release -p tests --bin ws_load
fi
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/margin-api
if [[ -n "${DATABASE_URL:-}" ]]; then
  db_path=${DATABASE_URL##*/}; db_name=${db_path%%\?*}; admin_url=${DATABASE_URL%/*}/postgres
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name" -c "CREATE DATABASE $db_name" >/dev/null
else
  export DATABASE_URL="sqlite://$WORK/load.sqlite?mode=rwc"
fi
export MARGIN_BIND=127.0.0.1:$PORT RUST_LOG=warn MARGIN_DATA_DIR=${MARGIN_DATA_DIR:-./data}
# One client address sends everything here: the rate limits and the socket caps per address
# and per user are not what is measured, so they are off.
export MARGIN_PROGRESS_STEP_DELAY_MS=${MARGIN_PROGRESS_STEP_DELAY_MS:-0}
export MARGIN_RATE_REQUESTS_PER_MIN=0 MARGIN_RATE_REQUESTS_PER_MIN_ANONYMOUS=0 \
  MARGIN_RATE_ENGINE_RUNS_PER_MIN=0 MARGIN_RATE_ENGINE_RUNS_PER_MIN_ANONYMOUS=0 \
  MARGIN_MAX_SOCKETS_PER_ADDRESS=100000 MARGIN_MAX_SOCKETS_PER_USER=100000

printf '%s\n' 'load-test-password-123' | $BIN create-admin --email load@example.com --username load --password-stdin >/dev/null
start_server() {
  $BIN serve >"$WORK/server.log" 2>&1 & SERVER=$!
  for _ in $(seq 100); do curl -sf "$BASE/livez" >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$WORK/server.log"; exit 1
}
start_server
gql() { curl -s -H 'content-type: application/json' ${TOKEN:+-H "authorization: Bearer $TOKEN"} -d "$1" "$BASE/graphql"; }
TOKEN=$(gql '{"query":"mutation { login(email: \"load@example.com\", password: \"load-test-password-123\") { token } }"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
export TOKEN

cache_writes() { curl -s "$BASE/metrics" | awk '/^backtest_cache_writes_total/ {printf "%s ", $0} END {print ""}'; }
echo "== 1a. cold 15-year runBacktest back to back, summary only (wrk -t1 -c1 -d$DURATION)"
wrk -t1 -c1 -d"$DURATION" --latency -s scripts/load/cold.lua "$BASE" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
echo "cache writer so far: $(cache_writes)"
# Let the writer drain what the previous case left queued, so the next one measures requests
# nothing else in the process competes with.
drain_writer() {
  for _ in $(seq 600); do
    [[ "$(curl -s "$BASE/metrics" | awk '/^backtest_cache_write_queue / {print $2}')" == "0" ]] && break
    sleep 0.1
  done
}
drain_writer
echo "== 1b. cold 15-year runBacktest, one every ${PACE_MS:-50} ms (wrk -t1 -c1 -d$DURATION)"
wrk -t1 -c1 -d"$DURATION" --latency -s scripts/load/cold_paced.lua "$BASE" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
echo "cache writer so far: $(cache_writes)"
echo "== 2. cached 15-year runBacktest, summary only (wrk -t1 -c1 -d$DURATION)"
gql "$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' scripts/load/cached.lua)" >/dev/null
wrk -t1 -c1 -d"$DURATION" --latency -s scripts/load/cached.lua "$BASE" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"

drain_writer
# The cold cases wrote a few hundred MB of cache rows; on PostgreSQL let its checkpoint and
# autovacuum of them finish first rather than compete with the reads measured next.
if [[ $DATABASE_URL == postgres* ]]; then
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
fi
echo "== 3. savedResults(first: 20) with 50 saved results (wrk -t2 -c32 -d$DURATION)"
SESSION=$(gql '{"query":"mutation { runBacktest(input: {ticker: \"SPY\", mode: FRESH_CAPITAL, startDate: \"2010-01-04\", endDate: \"2024-12-31\", leverage: 2, initialInvestment: 100000}) { backtestSession { sessionId } } }"}' | sed -E 's/.*"sessionId":"([^"]+)".*/\1/')
for i in $(seq 50); do
  gql "{\"query\":\"mutation { saveResult(input: {sessionId: \\\"$SESSION\\\", name: \\\"run $i\\\", tags: [\\\"load\\\"]}) { savedResult { resultId } } }\"}" >/dev/null
done
wrk -t2 -c32 -d"$DURATION" --latency -s scripts/load/saved.lua "$BASE" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"

echo "== 4. 1,000 concurrent progress subscriptions to one run (100 steps x 100 ms)"
kill $SERVER; wait $SERVER 2>/dev/null || true
MARGIN_PROGRESS_STEP_DELAY_MS=100 start_server
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$SERVER/status; }
echo "server RSS before: $(rss)"
# A fresh input each time: an earlier load run may have left this result in Redis.
RUN=$(gql '{"query":"mutation { runBacktest(wait: false, input: {ticker: \"QQQ\", mode: LIQUIDATION_REENTRY, startDate: \"2005-01-03\", endDate: \"2024-12-31\", leverage: 2, initialInvestment: '"$((100000 + RANDOM * 32768 + RANDOM))"'}) { backtestSession { sessionId } } }"}' | sed -E 's/.*"sessionId":"([^"]+)".*/\1/')
( sleep 5; echo "server RSS with 1,000 subscriptions live: $(rss)" ) &
ulimit -n 8192 2>/dev/null || true
"$TARGET"/release/ws_load "ws://127.0.0.1:$PORT/graphql/ws" "$RUN" 1000 "$TOKEN"
echo "server RSS after: $(rss)"
