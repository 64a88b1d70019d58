#!/usr/bin/env bash
# Both daemons: health, metrics, auth roles, body limit, problem+json,
# graceful shutdown on SIGTERM with a long-poll in flight.
source "$(dirname "$0")/lib.sh"

start_damd
start_pimd

for d in PIM DAM; do
	url=${!d}
	req GET "$url/healthz"; check "$d /healthz" code_is 200
	check "$d /healthz says ok" is "$(jqb .status)" ok
	req GET "$url/metrics"; check "$d /metrics" code_is 200
	check "$d /metrics is Prometheus text" grep -q '^# TYPE .*_http_requests_total counter' "$TMP/body"
	check "$d metrics count /healthz" grep -q 'http_requests_total{route="GET /healthz",status="200"}' "$TMP/body"
	AS_TOKEN= req POST "$url/v1/tokens" -d '{}'; check "$d no token: 401" code_is 401
	check "$d 401 is problem+json" is "$(header content-type)" application/problem+json
	check "$d problem has status" is "$(jqb .status)" 401
done

# pimd's write path depends on mimalloc (common/alloc.c); a sanitizer build
# keeps the sanitizer's malloc
if ! ldd "$BIN/pimd" | grep -q libasan; then
	check "pimd runs on mimalloc" grep -q libmimalloc "/proc/$PIM_PID/maps"
fi

reqj POST "$PIM/v1/tokens" '{"name":"shop","role":"reader"}'; check "admin creates a reader token" code_is 201
reader=$(jqb .token)
AS_TOKEN=$reader reqj POST "$PIM/v1/tokens" '{"name":"x","role":"admin"}'; check "reader on an admin route: 403" code_is 403
AS_TOKEN=$reader req GET "$PIM/v1/tokens/self"; check "a token reads its own name and role" is "$(jqb '"\(.name) \(.role)"')" "shop reader"
AS_TOKEN= req GET "$PIM/v1/tokens/self"; check "without a token: 401" code_is 401
req GET "$DAM/v1/tokens/self"; check "damd too" is "$(jqb .role)" admin
req GET "$PIM/v1/tokens"; check "token list" is "$(jqb '[.items[].name]|sort|join(",")')" "admin,shop"
check "token secrets are not listed" bash -c "! grep -q '$reader' '$TMP/body'"
check "tokens stored hashed" bash -c "! grep -q '$reader' '$PIM_DATA/tokens.json'"
reqj POST "$PIM/v1/tokens" '{"name":"admin","role":"reader"}'; check "a name in use: 409, not a replacement" code_is 409
req GET "$PIM/v1/tokens"; check "the admin token still works" code_is 200
reqj POST "$PIM/v1/tokens" '{"name":"a b/c","role":"reader"}'; check "a name with a space or '/': 422" code_is 422
req DELETE "$PIM/v1/tokens/shop"; check "revoke" code_is 204
reqj POST "$PIM/v1/tokens" '{"name":"shop","role":"designer"}'; check "then the name is free again" code_is 201
AS_TOKEN=$reader req GET "$PIM/v1/products"; check "the revoked secret: 401" code_is 401

head -c 40000000 /dev/zero >"$TMP/big"
req POST "$PIM/v1/tokens" -H 'Content-Type: application/json' --data-binary @"$TMP/big"
check "40 MB JSON body: 413" code_is 413
reqj POST "$PIM/v1/tokens" '{"name":'; check "broken JSON: 400" code_is 400
check "broken JSON: the problem says where" bash -c "jq -r .detail '$TMP/body' | grep -q 'line 1'"
req GET "$PIM/v1/no/such/thing" -H 'Accept: application/json'; check "unknown API path: 404" code_is 404

# SIGTERM: both stop within 5 s and leave LMDB consistent
kill -TERM "$PIM_PID" "$DAM_PID"
for i in $(seq 50); do kill -0 "$PIM_PID" 2>/dev/null || kill -0 "$DAM_PID" 2>/dev/null || break; sleep 0.1; done
check "pimd and damd stop on SIGTERM" bash -c "! kill -0 $PIM_PID 2>/dev/null && ! kill -0 $DAM_PID 2>/dev/null"
check "pimd logged its stop" grep -q 'pimd stopping' "$TMP/pimd.log"
check "LMDB readable after stop" mdb_stat -e "$PIM_DATA" >/dev/null
PIDS=()
start_pimd
reqj POST "$PIM/v1/tokens" '{"name":"y","role":"reader"}'; check "restart keeps PIM_ADMIN_TOKEN working" code_is 201

# A misspelt flag stops a daemon before it starts, rather than leaving it
# running on a default its operator did not choose.
for d in pimd damd; do
	rc=0; "$BIN/$d" --listn 127.0.0.1:1 --data "$TMP/never-$d" >"$TMP/flag.out" 2>"$TMP/flag.err" || rc=$?
	check "$d: an unknown flag exits 2" is "$rc" 2
	check "$d: the message names the flag" grep -q "unknown flag '--listn'" "$TMP/flag.err"
	check "$d: it started nothing and made no data directory" test ! -e "$TMP/never-$d"
	rc=0; "$BIN/$d" --data "$TMP/never-$d" --threads >/dev/null 2>"$TMP/flag.err" || rc=$?
	check "$d: a flag without its value exits 2" is "$rc $(grep -c "'--threads' needs a value" "$TMP/flag.err")" "2 1"
	rc=0; "$BIN/$d" --help >"$TMP/flag.out" 2>&1 || rc=$?
	check "$d --help exits 0 and lists the shared and its own flags" \
		is "$rc $(grep -cE '^  --(listen V|log-level V|quiet|'"$([ $d = pimd ] && echo 'damd-url V|no-starter|refresh-chunk V' || echo 'max-upload V|render-workers V|fsck')"') ' "$TMP/flag.out")" "0 6"
done
rc=0; PIMD_THREADS=4O "$BIN/pimd" --data "$TMP/never-pimd" >/dev/null 2>"$TMP/flag.err" || rc=$?
check "pimd: a setting that is not a number exits 2, naming the variable" \
	is "$rc $(grep -c "PIMD_THREADS '4O' is not a number" "$TMP/flag.err")" "2 1"
rc=0; "$BIN/damd" --data "$TMP/never-damd" --max-upload 5X >/dev/null 2>"$TMP/flag.err" || rc=$?
check "damd: a size with an unknown suffix exits 2, naming the flag" \
	is "$rc $(grep -c "\-\-max-upload '5X' is not a size" "$TMP/flag.err")" "2 1"
rc=0; PIMD_THREADS=-1 "$BIN/pimd" --data "$TMP/never-pimd" >/dev/null 2>"$TMP/flag.err" || rc=$?
check "pimd: a number out of its range exits 2, naming the variable and the range" \
	is "$rc $(grep -c "PIMD_THREADS '-1' is not from 0 to 1024" "$TMP/flag.err")" "2 1"
rc=0; "$BIN/pimd" --data "$TMP/never-pimd" --log-level verbose >/dev/null 2>"$TMP/flag.err" || rc=$?
check "pimd: an unknown log level exits 2, naming the flag and the levels" \
	is "$rc $(grep -c "\-\-log-level 'verbose' is not debug, info, warn or error" "$TMP/flag.err")" "2 1"
check "pimd: neither made its data directory" test ! -e "$TMP/never-pimd"
rc=0; "$BIN/damd" --data "$TMP/never-damd" --render-workers 0 >/dev/null 2>"$TMP/flag.err" || rc=$?
check "damd: a rendition setting out of range exits 2, naming it and its range" \
	is "$rc $(grep -c "\-\-render-workers '0' is not from 1 to 64" "$TMP/flag.err")" "2 1"
rc=0; DAMD_RENDER_TIMEOUT=2O "$BIN/damd" --data "$TMP/never-damd" >/dev/null 2>"$TMP/flag.err" || rc=$?
check "damd: a rendition setting that is not a number exits 2" \
	is "$rc $(grep -c "DAMD_RENDER_TIMEOUT '2O' is not a number" "$TMP/flag.err")" "2 1"
check "damd: neither made its data directory" test ! -e "$TMP/never-damd"

# Every flag a daemon reads is one --help lists, and so one config_check lets
# through: a flag read but not listed would be refused at start.
flags_read() { grep -rhoE 'config_(str|long|range|bool|size)\(argc, argv, "--[a-z-]+"' "$@" | grep -oE -- '--[a-z-]+' | sort -u; }
for d in pimd damd; do
	"$BIN/$d" --help | grep -oE '^  --[a-z-]+' | tr -d ' ' | sort -u >"$TMP/listed"
	check "$d --help lists every flag its sources read" \
		is "$(flags_read "$ROOT/$d" "$ROOT/common" | comm -23 - "$TMP/listed" | tr '\n' ' ')" ""
done
