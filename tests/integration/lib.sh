# Helpers for integration tests: start the real daemons on free loopback
# ports with temporary data, talk HTTP with curl, check with jq, and always
# stop them (by PID) and remove the data, also when a test fails.
# Source it from a test in tests/integration; run from the project root.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD
DATA=${DATA:-$ROOT/../shared/data}
TOKEN=test-admin-token-0123456789
export PIM_ADMIN_TOKEN=$TOKEN
TMP=$(mktemp -d /tmp/hub-it.XXXXXX)
PIDS=()
T_PASSED=0; T_FAILED=0

stop_all() {
	local p i
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 50); do
		local alive=0
		for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break; sleep 0.1
	done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; }; done
	PIDS=()
}
finish() {
	stop_all
	# sanitizer reports land in the daemons' logs
	if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.log 2>/dev/null; then
		grep -hE -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.log | head -60
		T_FAILED=$((T_FAILED + 1))
	fi
	# KEEP_TMP=1 keeps the daemons' data and logs for a look after a failure
	if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
	echo "${T_PASSED} passed, ${T_FAILED} failed"
	[ "$T_FAILED" = 0 ]
}
trap 'finish; exit $?' EXIT

# check DESCRIPTION CMD...: one TAP line
check() {
	local what=$1; shift
	if "$@"; then T_PASSED=$((T_PASSED + 1)); echo "ok $((T_PASSED + T_FAILED)) - $what"
	else T_FAILED=$((T_FAILED + 1)); echo "not ok $((T_PASSED + T_FAILED)) - $what"; fi
}
# fatal: stop the test here (the summary still prints)
die() { T_FAILED=$((T_FAILED + 1)); echo "not ok $((T_PASSED + T_FAILED)) - $*"; exit 1; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { local i; for i in $(seq 1 150); do curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# start_damd [flags]: sets DAM (base URL), DAM_PID, DAM_DATA (port DAM_PORT if set)
start_damd() {
	local port; port=${DAM_PORT:-$(free_port)}; DAM_DATA=${DAM_DATA:-$TMP/dam}
	"$BIN/damd" --listen 127.0.0.1:$port --data "$DAM_DATA" "$@" >>"$TMP/damd.log" 2>&1 &
	DAM_PID=$!; PIDS+=($DAM_PID); DAM=http://127.0.0.1:$port
	wait_http "$DAM/healthz" || { tail -20 "$TMP/damd.log"; die "damd did not start"; }
}
# start_pimd [flags]: sets PIM, PIM_PID, PIM_DATA (--schemas: PIM_SCHEMAS or the repository's)
start_pimd() {
	local port; port=$(free_port); PIM_DATA=${PIM_DATA:-$TMP/pim}
	"$BIN/pimd" --listen 127.0.0.1:$port --data "$PIM_DATA" --schemas "${PIM_SCHEMAS:-$ROOT/schemas}" --web "$ROOT/web" \
		${DAM:+--damd-url $DAM} "$@" >>"$TMP/pimd.log" 2>&1 &
	PIM_PID=$!; PIDS+=($PIM_PID); PIM=http://127.0.0.1:$port
	wait_http "$PIM/healthz" || { tail -20 "$TMP/pimd.log"; die "pimd did not start"; }
}

# start_hub [pimd flags]: damd, then pimd following its change feed (it
# reads the feed and asset metadata with the admin token)
start_hub() {
	start_damd
	start_pimd --damd-token "$TOKEN" "$@"
}
# eventually CMD...: true once CMD is, polling for up to ${WAIT_SECS:-15} s
eventually() {
	local end=$((SECONDS + ${WAIT_SECS:-15}))
	while ! "$@" 2>/dev/null; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done
}

# import_job FILE QUERY: posts FILE to pimd's /v1/imports?QUERY and waits
# for the job to end; the report is in $TMP/body, the job in JOB_ID and
# JOB_LOC (its Location)
import_job() {
	req POST "$PIM/v1/imports?$2" -H 'Content-Type: application/octet-stream' --data-binary @"$1"
	[ "$CODE" = 202 ] || { echo "    # POST gave $CODE: $(head -c 300 "$TMP/body")" >&2; return 1; }
	JOB_LOC=$(header location); JOB_ID=$(jqb .id)
	local i
	for i in $(seq 1 900); do
		req GET "$PIM/v1/imports/$JOB_ID"
		case $(jqb .status) in done | failed | cancelled) return 0 ;; esac
		sleep 0.1
	done
	echo "    # job $JOB_ID did not end" >&2; return 1
}
# paged URL FIELD: follows next_cursor from URL (which has a query), up to
# 100 pages; PAGED gets the FIELD of every item, comma-joined, PAGES the
# number of pages
paged() {
	local cursor="" ids
	PAGED="" PAGES=0
	while [ $PAGES -lt 100 ]; do
		req GET "$1${cursor:+&cursor=$cursor}"; PAGES=$((PAGES + 1))
		ids=$(jqb "[.items[].$2]|join(\",\")")
		PAGED+="${PAGED:+${ids:+,}}$ids"
		cursor=$(jqb '.next_cursor // empty'); [ -n "$cursor" ] || break
	done
}
# req METHOD URL [curl args]: body in $TMP/body, status in $CODE, headers in $TMP/headers
req() {
	local m=$1 u=$2; shift 2
	CODE=$(curl -sS -m "${REQ_TIMEOUT:-60}" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer ${AS_TOKEN-$TOKEN}" "$@" "$u")
}
# reqj METHOD URL JSON [curl args]: the same with a JSON body
reqj() { local m=$1 u=$2 d=$3; shift 3; req "$m" "$u" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
body() { cat "$TMP/body"; }
# jqb FILTER: run jq on the last body
jqb() { jq -r "$@" "$TMP/body"; }
header() { tr -d '\r' <"$TMP/headers" | awk -F': ' -v h="$(echo "$1" | tr A-Z a-z)" 'tolower($1)==h{print $2}' | tail -1; }
is() { [ "$1" = "$2" ] || { echo "    # got '$1', want '$2'" >&2; return 1; }; }
code_is() { is "$CODE" "$1" || { echo "    # body: $(head -c 400 "$TMP/body")" >&2; return 1; }; }
