#!/usr/bin/env bash
# Browser tests of the UI: starts damd and pimd (binaries from $BUILD, default
# build) on free loopback ports with temporary data, runs web/tests/*.test.mjs
# with node's test runner in Debian's Chromium (playwright-core), always stops
# the daemons, and ends with "N passed, N failed". Arguments name test files
# to run instead (relative to web/: tests/roles.test.mjs).
set -u
WEB=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(cd "$WEB/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD
TMP=$(mktemp -d /tmp/hub-web.XXXXXX)
PIDS=()

finish() {
	local p i alive
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 50); do
		alive=0
		for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break; sleep 0.1
	done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; }; done
	if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.log >/dev/null 2>&1; then
		grep -hE -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.log | head -60
		FAILED=$((${FAILED:-0} + 1))
	fi
	rm -rf "$TMP"
	echo "${PASSED:-0} passed, ${FAILED:-1} failed"
	[ "${FAILED:-1}" = 0 ]
}
trap 'finish; exit $?' EXIT

if [ ! -x /usr/bin/chromium ]; then echo "no /usr/bin/chromium: run scripts/deps.sh test"; exit 1; fi
if [ ! -d "$WEB/node_modules/playwright-core" ]; then
	(cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed in web/"; exit 1; }
fi

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { local i; for i in $(seq 1 150); do curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

export PIM_ADMIN_TOKEN=test-admin-token-0123456789
dport=$(free_port); pport=$(free_port)
"$BIN/damd" --listen 127.0.0.1:$dport --data "$TMP/dam" --quiet >>"$TMP/damd.log" 2>&1 &
PIDS+=($!)
"$BIN/pimd" --listen 127.0.0.1:$pport --data "$TMP/pim" --schemas "$ROOT/schemas" --web "$WEB" \
	--damd-url http://127.0.0.1:$dport --quiet >>"$TMP/pimd.log" 2>&1 &
PIDS+=($!)
export DAM=http://127.0.0.1:$dport PIM=http://127.0.0.1:$pport TOKEN=$PIM_ADMIN_TOKEN
export DATA=${DATA:-$ROOT/../shared/data} WEB_TMP=$TMP
wait_http "$DAM/healthz" || { tail -20 "$TMP/damd.log"; echo "damd did not start"; exit 1; }
wait_http "$PIM/healthz" || { tail -20 "$TMP/pimd.log"; echo "pimd did not start"; exit 1; }

cd "$WEB"
node tests/browser.mjs >"$TMP/browser.ws" 2>>"$TMP/browser.log" &
PIDS+=($!)
for i in $(seq 1 300); do [ -s "$TMP/browser.ws" ] && break; sleep 0.1; done
WEB_BROWSER_WS=$(head -1 "$TMP/browser.ws")
[ -n "$WEB_BROWSER_WS" ] || { cat "$TMP/browser.log"; echo "chromium did not start"; exit 1; }
export WEB_BROWSER_WS
[ $# -gt 0 ] || set -- tests/*.test.mjs
node --test --test-concurrency=1 --test-reporter=tap "$@" 2>&1 | tee "$TMP/node.out"
PASSED=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$TMP/node.out" | tail -1)
FAILED=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$TMP/node.out" | tail -1)
[ -n "$PASSED" ] || { PASSED=0; FAILED=1; }
