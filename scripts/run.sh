#!/usr/bin/env bash
# make run: both daemons on their default loopback ports with data under var/,
# a demo catalog with images on first start, the UI URL printed; Ctrl-C stops both.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PIM_LISTEN=${PIMD_LISTEN:-127.0.0.1:8080}
DAM_LISTEN=${DAMD_LISTEN:-127.0.0.1:8081}
mkdir -p var/pim var/dam
fresh=0; [ -e var/pim/data.mdb ] || fresh=1

# One admin token for both daemons, so that the UI signs in once: the one
# given, else var/admin.token (made on first start, mode 0600).
token_from=PIM_ADMIN_TOKEN
if [ -z "${PIM_ADMIN_TOKEN:-}" ]; then
	token_from=var/admin.token
	if [ ! -s var/admin.token ]; then
		(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >var/admin.token)
	fi
	PIM_ADMIN_TOKEN=$(cat var/admin.token)
fi
export PIM_ADMIN_TOKEN

pids=()
stop() { trap - INT TERM EXIT; kill -TERM "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "stopped"; }
trap stop INT TERM EXIT

./$BUILD/damd --listen "$DAM_LISTEN" --data var/dam "$@" 2>>var/damd.log &
pids+=($!)
# pimd follows damd's change feed with the same token (in its environment,
# not on its command line where ps would show it)
PIMD_DAMD_TOKEN=$PIM_ADMIN_TOKEN ./$BUILD/pimd --listen "$PIM_LISTEN" --data var/pim \
	--damd-url "http://$DAM_LISTEN" --schemas schemas --web web "$@" 2>>var/pimd.log &
pids+=($!)
for i in $(seq 100); do
	curl -fsS -o /dev/null "http://$PIM_LISTEN/healthz" 2>/dev/null &&
		curl -fsS -o /dev/null "http://$DAM_LISTEN/healthz" 2>/dev/null && break
	sleep 0.1
done

if [ $fresh = 1 ] && [ -x scripts/demo.sh ]; then
	echo "loading the demo catalog..."
	PIM="http://$PIM_LISTEN" DAM="http://$DAM_LISTEN" PIM_TOKEN="$PIM_ADMIN_TOKEN" \
		DAM_TOKEN="$PIM_ADMIN_TOKEN" scripts/demo.sh ||
		echo "demo catalog: some steps failed (see above)"
fi

cat <<MSG

  UI:     http://$PIM_LISTEN/
  pimd:   http://$PIM_LISTEN   (log: var/pimd.log)
  damd:   http://$DAM_LISTEN   (log: var/damd.log)
  admin token: $token_from (sign in to the UI with it)

  Ctrl-C stops both.
MSG
wait -n "${pids[@]}" || true
