#!/usr/bin/env bash
# Times what one cache-table write costs PostgreSQL: a stored 15-year result inserted as
# jsonb (pglz, lz4, uncompressed) and as json, into temporary tables. Run after load.sh has
# left cache rows in the database:
#
#   scripts/load/jsonb_insert.sh 'postgres://postgres@127.0.0.1:5432/margin_load?sslmode=disable'
set -euo pipefail
url=$1
file=$(mktemp); trap 'rm -f "$file"' EXIT
psql "$url" -qtAc "SELECT results::text FROM historical_backtest_backtestcache LIMIT 1" >"$file"
[[ -s $file ]] || { echo "no cache rows in $url: run scripts/load.sh against it first"; exit 1; }
echo "one result: $(wc -c <"$file") bytes of JSON text"
psql "$url" -q <<SQL
\\timing on
CREATE TEMP TABLE jsonb_pglz (j jsonb);
CREATE TEMP TABLE jsonb_lz4 (j jsonb COMPRESSION lz4);
CREATE TEMP TABLE jsonb_plain (j jsonb);
ALTER TABLE jsonb_plain ALTER COLUMN j SET STORAGE EXTERNAL;
CREATE TEMP TABLE json_lz4 (j json COMPRESSION lz4);
\\set content \`cat $file\`
\\echo jsonb, pglz (the default)
INSERT INTO jsonb_pglz VALUES (:'content');
INSERT INTO jsonb_pglz VALUES (:'content');
\\echo jsonb, lz4
INSERT INTO jsonb_lz4 VALUES (:'content');
INSERT INTO jsonb_lz4 VALUES (:'content');
\\echo jsonb, uncompressed (the jsonb parse alone)
INSERT INTO jsonb_plain VALUES (:'content');
INSERT INTO jsonb_plain VALUES (:'content');
\\echo json, lz4
INSERT INTO json_lz4 VALUES (:'content');
INSERT INTO json_lz4 VALUES (:'content');
SQL
