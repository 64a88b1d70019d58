#!/usr/bin/env bash
# Fuzzes the importers (fuzz_import.c) for SECONDS (default 300) with
# libFuzzer under ASan and UBSan, seeded with the real catalogs and the
# hostile feeds of ../shared/data, each under every format byte that fits.
# Findings land in tests/fuzz/findings/ (crash-*, leak-*, timeout-*); a
# finding becomes a unit test when it is fixed.
#
#   tests/fuzz/run.sh [SECONDS]        needs clang (Debian: clang)
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SECONDS_MAX=${1:-300}
DATA=${DATA:-$ROOT/../shared/data}
OUT=$ROOT/tests/fuzz/build
mkdir -p "$OUT/corpus" tests/fuzz/findings
PKGS="jansson libxml-2.0 libcrypto libutf8proc libmicrohttpd"
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -Icommon -Iimporters -include common/fmacros.h \
	tests/fuzz/fuzz_import.c importers/*.c common/*.c \
	$(pkg-config --cflags --libs $PKGS) -lcsv -lpthread -lm -o "$OUT/fuzz_import"

# seeds: each small feed with the format byte (and profile) it is meant for
seed() { # FORMAT_BYTE FILE
	local name; name=$(basename "$2")
	{ printf "\\x$(printf %02x "$1")"; head -c 65536 "$2"; } >"$OUT/corpus/$1-$name"
}
# format bytes: format + 5 × profile (profiles: none, akeneo, bmecat, gmc, magento, shopify)
for f in "$DATA"/catalogs/akeneo-icecat-demo/*.csv; do seed 5 "$f"; done
for f in "$DATA"/catalogs/shopify/*.csv; do seed 25 "$f"; done
for f in "$DATA"/catalogs/bmecat/*.xml; do seed 13 "$f"; done
for f in "$DATA"/catalogs/google-merchant/*.xml; do [ -f "$f" ] && seed 16 "$f"; done
for f in "$DATA"/catalogs/google-merchant/*.tsv; do [ -f "$f" ] && seed 17 "$f"; done
for f in "$DATA"/catalogs/json/*; do [ -f "$f" ] && seed 4 "$f"; done
for f in "$DATA"/hostile/csv/* "$DATA"/hostile/xml/*; do [ -f "$f" ] && seed 0 "$f" && seed 1 "$f"; done

"$OUT/fuzz_import" -max_total_time="$SECONDS_MAX" ${FUZZ_FLAGS:-} -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix=tests/fuzz/findings/ -print_final_stats=1 "$OUT/corpus"
