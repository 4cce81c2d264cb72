#!/usr/bin/env bash
# What an SPA pays to draw one result: on a cached 33-year SPY run (1993-01-29..2025-09-26,
# 2x REG_T, LIQUIDATION_REENTRY), the median time and the bytes on the wire of
#   - the dashboard query (summary, metrics, rounds, events, all ten figures at the default
#     maxPoints), identity and with zstd, br and gzip;
#   - the same figures at every day (maxPoints: 0), the payload before downsampling;
#   - every daily column at full resolution;
#   - the daily CSV export.
# Each is asked RUNS times (default 30) with curl from this machine; the time is curl's
# time_total on loopback, which is the server's time plus a fraction of a millisecond.
# Prints each number beside its target (issue "Results out": the dashboard within 10 ms and
# 300 KB with zstd or br, 400 KB with gzip; the daily table within 10 ms; the CSV within 20 ms)
# and exits non-zero if one is missed; rows without a target are for comparison.
#
#   scripts/load/results_out.sh          # builds the release binary, SQLite, port 18003
#   SKIP_BUILD=1 scripts/load/results_out.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18003}
RUNS=${RUNS:-30}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d); SERVER=""
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
[[ -n "${SKIP_BUILD:-}" ]] || cargo build -q --release -p api
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/margin-api
export DATABASE_URL="sqlite://$WORK/results.sqlite?mode=rwc" MARGIN_BIND=127.0.0.1:$PORT RUST_LOG=error \
  MARGIN_DATA_DIR=${MARGIN_DATA_DIR:-./data} MARGIN_ANONYMOUS_BACKTEST=true \
  MARGIN_RATE_REQUESTS_PER_MIN=0 MARGIN_RATE_ENGINE_RUNS_PER_MIN=0 \
  MARGIN_RATE_REQUESTS_PER_MIN_ANONYMOUS=0 MARGIN_RATE_ENGINE_RUNS_PER_MIN_ANONYMOUS=0
$BIN serve >"$WORK/server.log" 2>&1 & SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/livez" >/dev/null && break; sleep 0.1; done

post() { curl -s -H 'content-type: application/json' -d "$1" "$BASE/graphql"; }
RUN='{"query":"mutation { runBacktest(input: {ticker: \"SPY\", mode: LIQUIDATION_REENTRY, startDate: \"1993-01-29\", endDate: \"2025-09-26\", leverage: 2, accountType: REG_T, initialInvestment: 100000}) { backtestSession { sessionId status } } }"}'
SESSION=$(post "$RUN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["runBacktest"]["backtestSession"]["sessionId"])')
result_query() {
  printf '{"query":"{ backtestSession(sessionId: \\"%s\\") { result { %s } } }"}' "$SESSION" "$1"
}
DASHBOARD=$(result_query 'summary { finalEquity cagr maxDrawdown liquidations } metrics { sharpe sortino calmar volatility } rounds { round startDate endDate returnPct marginCall } events { kind date price equity } figures { name figure }')
EVERY_DAY=$(result_query 'figures(maxPoints: 0) { name figure }')
DAILY=$(result_query 'daily { totalRows dates columns { column numbers statuses flags } }')
echo "$DASHBOARD" >"$WORK/dashboard.json"; echo "$EVERY_DAY" >"$WORK/every_day.json"; echo "$DAILY" >"$WORK/daily.json"
# Warm the cache layers and the allocator once.
for body in dashboard every_day daily; do
  curl -s -o /dev/null -H 'content-type: application/json' --data-binary @"$WORK/$body.json" "$BASE/graphql"
done

# measure NAME ENCODING TARGET_MS TARGET_KB CURL_ARGS...: median time_total and wire bytes.
FAILED=0
measure() {
  local name=$1 encoding=$2 target_ms=$3 target_kb=$4; shift 4
  for _ in $(seq "$RUNS"); do
    curl -s -o /dev/null -H "accept-encoding: $encoding" -w '%{time_total} %{size_download} %{http_code}\n' "$@"
  done | sort -n | awk -v name="$name" -v enc="$encoding" -v tms="$target_ms" -v tkb="$target_kb" '
    { t[NR] = $1; b = $2; if ($3 != 200) bad++ }
    END {
      ms = t[int((NR + 1) / 2)] * 1000; kb = b / 1000
      if (bad) printf "%-34s %-8s %d of %d answers were not 200\n", name, enc, bad, NR
      ok = !bad && (tms == "-" || ms <= tms) && (tkb == "-" || kb <= tkb)
      printf "%-34s %-8s p50 %7.2f ms (target %s)  %9.1f KB (target %s)  %s\n", name, enc, ms, tms, kb, tkb, ok ? "ok" : "MISSED"
      exit ok ? 0 : 1
    }' || FAILED=1
}
gql_file() { echo -H content-type:application/json --data-binary @"$WORK/$1.json" "$BASE/graphql"; }

echo "== cached SPY 1993-01-29..2025-09-26, 2x REG_T, $RUNS requests each (curl on loopback)"
# shellcheck disable=SC2046
measure "dashboard (10 figures, default)" identity 10 - $(gql_file dashboard)
# shellcheck disable=SC2046
measure "dashboard (10 figures, default)" zstd 10 300 $(gql_file dashboard)
# shellcheck disable=SC2046
measure "dashboard (10 figures, default)" br 10 300 $(gql_file dashboard)
# shellcheck disable=SC2046
measure "dashboard (10 figures, default)" gzip 10 400 $(gql_file dashboard)
# shellcheck disable=SC2046
measure "10 figures at every day (before)" identity - - $(gql_file every_day)
# shellcheck disable=SC2046
measure "10 figures at every day (before)" zstd - - $(gql_file every_day)
# shellcheck disable=SC2046
measure "daily, every column, every row" identity 10 - $(gql_file daily)
# shellcheck disable=SC2046
measure "daily, every column, every row" zstd - - $(gql_file daily)
measure "daily.csv export" identity 20 - "$BASE/exports/backtests/$SESSION/daily.csv"
measure "daily.csv export" zstd 20 - "$BASE/exports/backtests/$SESSION/daily.csv"
exit $FAILED
