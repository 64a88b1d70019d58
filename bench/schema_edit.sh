#!/usr/bin/env bash
# A schema edit on a loaded catalog, two ways in the same run: pimd as it
# runs (the edit's request refreshes one chunk of the products it affects,
# a background thread the rest, a chunk per transaction) beside the whole
# refresh in the edit's own transaction (--refresh-chunk above the catalog's
# size). The edit adds a locale to the web channel, so every product is
# recomputed. For each: how long the edit's request takes, how long a
# product write sent just after it waits, when every product is refreshed,
# and pimd's peak RssAnon (sampled every 100 ms).
#
#   bench/schema_edit.sh [PRODUCTS]     default 100,000 (about 1 minute)
#
# Environment: BUILD (default build). Data in bench/scratch/schema-edit/.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BIN=$ROOT/${BUILD:-build}
N=${1:-100000}
WORK=$ROOT/bench/scratch/schema-edit
TOKEN=bench-admin-token-0123456789abcdef
export PIM_ADMIN_TOKEN=$TOKEN
PIMD_PID=
cleanup() { [ -n "$PIMD_PID" ] && kill "$PIMD_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK/data"; }
trap cleanup EXIT
mkdir -p "$WORK" || exit 1
[ -x "$BIN/pimd" ] || { echo "no $BIN/pimd: run make first" >&2; exit 1; }

NDJSON=$WORK/products-$N-$(sha256sum bench/gen_catalog.py | cut -c1-12).ndjson
if [ ! -s "$NDJSON" ]; then
	rm -f "$WORK"/products-*.ndjson
	python3 bench/gen_catalog.py ndjson "$N" "$NDJSON.tmp" && mv "$NDJSON.tmp" "$NDJSON" || exit 1
fi
rm -rf "$WORK/parts" && mkdir -p "$WORK/parts" && split -l 5000 "$NDJSON" "$WORK/parts/p."

now() { date +%s.%N; }
api() { curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@"; }
queued() { curl -fsS "$PIM/metrics" | awk '$1 == "pimd_schema_refresh_queued" {print $2}'; }

# measure NAME CHUNK: one pimd, loaded, edited; its figures as JSON in $WORK/NAME.json
measure() {
	local name=$1 chunk=$2 port data t0 sampler edit
	port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	data=$WORK/data/$name
	rm -rf "$data" && mkdir -p "$data"
	"$BIN/pimd" --listen 127.0.0.1:"$port" --data "$data" --schemas schemas --quiet \
		--refresh-chunk "$chunk" >"$WORK/$name.log" 2>&1 &
	PIMD_PID=$!
	PIM=http://127.0.0.1:$port
	for _ in $(seq 100); do curl -fsS -o /dev/null "$PIM/healthz" 2>/dev/null && break; sleep 0.1; done
	local code
	while IFS=$'\t' read -r path body; do
		code=$(api -X PUT -H 'Content-Type: application/json' --data-binary "$body" "$PIM$path")
		case $code in 200 | 201 | 204) ;; *) echo "$name: PUT $path gave $code" >&2; exit 1 ;; esac
	done < <(python3 bench/gen_catalog.py schema)
	for f in "$WORK"/parts/p.*; do
		code=$(api -H 'Content-Type: application/x-ndjson' --data-binary @"$f" "$PIM/v1/products/batch")
		[ "$code" = 200 ] || { echo "$name: loading $(basename "$f") gave $code" >&2; exit 1; }
	done
	curl -fsS -H "Authorization: Bearer $TOKEN" "$PIM/v1/channels/web" |
		jq -c '.locales = (.locales + ["de_DE"] | unique)' >"$WORK/web.json"
	(peak=0; while kill -0 "$PIMD_PID" 2>/dev/null; do
		r=$(awk '/^RssAnon/ {print $2}' "/proc/$PIMD_PID/status" 2>/dev/null)
		[ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$WORK/$name.peak"
		sleep 0.1; done) &
	sampler=$!
	t0=$(now)
	curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -X PUT -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary @"$WORK/web.json" \
		"$PIM/v1/channels/web" >"$WORK/$name.edit" &
	edit=$!
	sleep 0.2
	curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -X PATCH -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' \
		--data-binary '{"values":{"name":[{"locale":"en_US","channel":null,"data":"Edited meanwhile"}]}}' \
		"$PIM/v1/products/BATCH-0000001" >"$WORK/$name.write"
	wait "$edit"
	local deadline=$((SECONDS + 600))
	while [ "$(queued)" != 0 ]; do
		[ $SECONDS -lt "$deadline" ] || { echo "$name: the refresh did not end within 600 s" >&2; exit 1; }
		sleep 0.1
	done
	local done_s; done_s=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
	kill "$sampler" 2>/dev/null
	kill "$PIMD_PID"; wait "$PIMD_PID" 2>/dev/null; PIMD_PID=
	read -r ecode etime <"$WORK/$name.edit"
	read -r wcode wtime <"$WORK/$name.write"
	[ "$ecode" = 200 ] && [ "$wcode" = 200 ] || { echo "$name: edit gave $ecode, write gave $wcode" >&2; exit 1; }
	printf '{"edit_s":%s,"write_s":%s,"done_s":%s,"rssanon_mb":%s}\n' "$etime" "$wtime" \
		"$done_s" "$(awk '{ printf "%.1f", $1 / 1024 }' "$WORK/$name.peak")" >"$WORK/$name.json"
}

measure chunked 4096
measure inline 1000000000
python3 - "$N" "$WORK/chunked.json" "$WORK/inline.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
c, i = (json.load(open(f)) for f in sys.argv[2:4])
print(f"\nSchema edit (web channel gains a locale) on {n:,} products\n")
print("| | chunked, in the background (default) | in the edit's transaction | ratio |")
print("|---|---|---|---|")
for key, what, unit in [("edit_s", "the edit's request", "s"),
                        ("write_s", "a product write sent 0.2 s after it", "s"),
                        ("done_s", "every product refreshed", "s"),
                        ("rssanon_mb", "pimd peak RssAnon", "MB")]:
    print(f"| {what} | {c[key]:.2f} {unit} | {i[key]:.2f} {unit} | {c[key] / i[key]:.2f}× |")
EOF
