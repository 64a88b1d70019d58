#!/bin/sh
# Installs the Debian packages the hub needs that are not installed yet.
# Usage: scripts/deps.sh [build|test|bench]   (each set includes the previous)
set -eu
set_name=${1:-build}

build="build-essential pkg-config libmicrohttpd-dev liblmdb-dev lmdb-utils
libjansson-dev libssl-dev libxml2-dev libxml2-utils libcsv-dev libutf8proc-dev
libvips-dev libvips-tools libarchive-dev libmagic-dev libcurl4-openssl-dev
libmimalloc-dev"
test="curl jq python3 python3-jsonschema file zip chromium nodejs"
bench="wrk nginx-light sqlite3 procps time unzip"

case $set_name in
build) want=$build ;;
test) want="$build $test" ;;
bench) want="$build $test $bench" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	# nodejs may come from elsewhere than Debian; a working node is enough
	if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		continue
	fi
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ "$set_name" != build ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi
[ -z "$missing" ] && exit 0

echo "installing Debian packages:$missing" >&2
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
