#!/usr/bin/env bash
# How fast hostile request shapes are refused by the cost analysis, and that /livez stays
# served meanwhile. Prints the numbers BENCHMARKS.md quotes.
#
#   scripts/load/hostile_cost.sh            # builds the release binary, SQLite, port 18001
#
# Each shape is sent N (default 50) times back to back with curl; the script prints the
# median and the worst `time_total`, and the worst /livez time seen while 4 clients keep
# sending the fan-out document.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18001}
N=${N:-50}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d); SERVER=""
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
[[ -n "${SKIP_BUILD:-}" ]] || cargo build -q --release -p api
TARGET=${CARGO_TARGET_DIR:-target}
export DATABASE_URL="sqlite://$WORK/cost.sqlite?mode=rwc" MARGIN_BIND=127.0.0.1:$PORT RUST_LOG=warn \
  MARGIN_DATA_DIR=${MARGIN_DATA_DIR:-./data}
# What is measured is the cost analysis, not the per-address rate limit.
export MARGIN_RATE_REQUESTS_PER_MIN_ANONYMOUS=0 MARGIN_RATE_ENGINE_RUNS_PER_MIN_ANONYMOUS=0
"$TARGET/release/margin-api" serve >"$WORK/server.log" 2>&1 & SERVER=$!
for _ in $(seq 1 100); do curl -fs "$BASE/livez" >/dev/null && break; sleep 0.1; done

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def write(name, query):
    with open(f"{work}/{name}.json", "w") as f:
        json.dump({"query": query}, f)
fan = "query { ...F22 } fragment F0 on Query { __typename }" + "".join(
    f" fragment F{i} on Query {{ ...F{i-1} ...F{i-1} }}" for i in range(1, 23))
write("fan_out", fan)
write("raw_x4", "{ " + " ".join(
    f"a{i}: backtestSessions(first: 100) {{ nodes {{ result {{ raw }} }} }}" for i in range(4)) + " }")
write("prices_x124", "{ " + " ".join(
    f"p{i}: prices(ticker: \"SPY\", every: 1) {{ every }}" for i in range(124)) + " }")
write("plain", "{ version { service } }")
PY

stats() { sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, worst %.1f ms\n", a[int((NR+1)/2)]*1000, a[NR]*1000}'; }
for shape in plain fan_out raw_x4 prices_x124; do
  code=$(curl -s "$BASE/graphql" -H 'content-type: application/json' --data @"$WORK/$shape.json" \
    | python3 -c 'import json,sys; b=json.load(sys.stdin); print((b.get("errors") or [{}])[0].get("extensions",{}).get("code","ok"))')
  printf '%-12s %-18s ' "$shape" "$code"
  for _ in $(seq 1 "$N"); do
    curl -s -o /dev/null -w '%{time_total}\n' "$BASE/graphql" -H 'content-type: application/json' \
      --data @"$WORK/$shape.json"
  done | stats
done

# /livez while four clients send the fan-out document back to back.
for _ in 1 2 3 4; do
  ( while :; do curl -s -o /dev/null "$BASE/graphql" -H 'content-type: application/json' \
      --data @"$WORK/fan_out.json"; done ) & 
done
printf '%-31s ' "/livez under 4x fan-out"
for _ in $(seq 1 "$N"); do curl -s -o /dev/null -w '%{time_total}\n' "$BASE/livez"; done | stats
kill $(jobs -p) 2>/dev/null || true
