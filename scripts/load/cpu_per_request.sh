#!/usr/bin/env bash
# Repeats one wrk case against a running server and prints, per round, the throughput and the
# server's CPU time per request (from /proc), which varies less between rounds than req/s.
#
#   TOKEN=… scripts/load/cpu_per_request.sh scripts/load/saved.lua [rounds] [connections] [seconds]
#
# BASE (default http://127.0.0.1:18000) is the server; its process is found by `pgrep -f`
# on PATTERN (default "margin-api serve").
set -euo pipefail
script=$1 rounds=${2:-3} connections=${3:-32} seconds=${4:-6}
BASE=${BASE:-http://127.0.0.1:18000}
pid=$(pgrep -f "${PATTERN:-margin-api serve}" | head -n1)
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
for round in $(seq "$rounds"); do
  before=$(cpu)
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" -s "$script" "$BASE")
  after=$(cpu)
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  echo "round $round: $rps req/s, $(( (after - before) * 1000000 / ticks / requests )) µs server CPU per request"
done
