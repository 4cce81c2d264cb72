#!/usr/bin/env bash
# Times `margin-api import-django` of a large Django database on this machine: the number the
# README ("Moving from the Django apps") and BENCHMARKS.md quote.
#
#   scripts/import-benchmark.sh                     # 10,000 users, 50,000 saved results, SQLite
#   USERS=1000 RESULTS=5000 scripts/import-benchmark.sh
#
# Builds the large fixture with real Django (tests/fixtures/django_legacy/build.py, in the
# virtualenv build.sh makes; kept in $WORK between runs unless REBUILD=1), builds the release
# binary (SKIP_BUILD=1 reuses it; CARGO_TARGET_DIR is honoured), then imports into a fresh
# SQLite file and prints the summary, the wall time and the size of the target. The target
# needs room: every saved result is re-run and stored with its full server payload
# (~0.6 MB for an average span), so 50,000 results are tens of gigabytes.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-10000}
RESULTS=${RESULTS:-50000}
WORK=${WORK:-/var/tmp/import-benchmark}
VENV=${DJANGO_LEGACY_VENV:-/tmp/django-legacy-venv}
FIXTURE="$WORK/legacy-$USERS-$RESULTS.sqlite3"
mkdir -p "$WORK"

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/fixtures/django_legacy/requirements.txt
if [[ -n "${REBUILD:-}" || ! -f "$FIXTURE" ]]; then
  rm -f "$FIXTURE"
  "$VENV/bin/python" tests/fixtures/django_legacy/build.py --database "sqlite:///$FIXTURE" \
    --manifest "$WORK/legacy-$USERS-$RESULTS.manifest.json" --users "$USERS" --results "$RESULTS"
fi

if [[ -z "${SKIP_BUILD:-}" ]]; then
  cargo build -q --release -p api
fi
BIN=${CARGO_TARGET_DIR:-target}/release/margin-api
TARGET_DB="$WORK/target.sqlite"
rm -f "$TARGET_DB" "$TARGET_DB-wal" "$TARGET_DB-shm"
# Migrations first, so the time is the import's alone.
DATABASE_URL="sqlite://$TARGET_DB?mode=rwc" RUST_LOG=warn "$BIN" migrate up >/dev/null

start=$(date +%s%N)
DATABASE_URL="sqlite://$TARGET_DB?mode=rwc" RUST_LOG=warn "$BIN" import-django \
  --from "sqlite://$FIXTURE" --report "$WORK/report.json"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf '\nimport-django of %s users / %s saved results: %d.%03d s wall\n' "$USERS" "$RESULTS" $((ms / 1000)) $((ms % 1000))
du -h "$TARGET_DB"* | sed 's/^/target /'
