#!/usr/bin/env bash
# Fuzzes with libFuzzer under ASan and UBSan for SECONDS (default 300):
#   import    any bytes through every importer, format and profile
#             (fuzz_import.c), seeded with ../shared/data's real catalogs
#             and hostile feeds;
#   product   any JSON through pimd's write path (fuzz_product.c), seeded
#             with the demo catalog's products;
#   params    the parsers of rendition parameters, Accept, presets, cursors,
#             decimals, timestamps, merge patches and search text
#             (fuzz_params.c), seeded with a few of each.
# Findings land in tests/fuzz/findings/ (crash-*, leak-*, timeout-*); a
# finding becomes a unit test when it is fixed. FUZZ_FLAGS adds libFuzzer
# flags (e.g. "-fork=1 -ignore_crashes=1" to go on past a finding).
#
#   tests/fuzz/run.sh [import|product|params] [SECONDS]     needs clang (Debian: clang)
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET=${1:-import}
SECONDS_MAX=${2:-300}
DATA=${DATA:-$ROOT/../shared/data}
OUT=$ROOT/tests/fuzz/build
CORPUS=$OUT/corpus-$TARGET
mkdir -p "$CORPUS" tests/fuzz/findings
rm -rf "$OUT"/store-* # the product target's stores of earlier runs
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE
	-Icommon -Iimporters -include common/fmacros.h"
case $TARGET in
import)
	SRCS="tests/fuzz/fuzz_import.c importers/*.c common/*.c"
	PKGS="jansson libxml-2.0 libcrypto libutf8proc libmicrohttpd"
	;;
product)
	SRCS="tests/fuzz/fuzz_product.c $(echo pimd/*.c | sed 's|pimd/main.c||') importers/*.c common/*.c"
	PKGS="jansson libxml-2.0 libcrypto libutf8proc libmicrohttpd lmdb libcurl"
	;;
params)
	SRCS="tests/fuzz/fuzz_params.c damd/presets.c damd/rendition.c pimd/util.c common/*.c"
	PKGS="jansson libcrypto libutf8proc libmicrohttpd vips"
	;;
*) echo "usage: tests/fuzz/run.sh [import|product|params] [SECONDS]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2046,SC2086
clang $CFLAGS $SRCS $(pkg-config --cflags --libs $PKGS) -lcsv -lpthread -lm -o "$OUT/fuzz_$TARGET"

# seeds, each with the first byte its target reads
seed() { # BYTE NAME FILE
	{ printf "\\x$(printf %02x "$1")"; head -c 65536 "$3"; } >"$CORPUS/$1-$2"
}
if [ "$TARGET" = import ]; then
	# format + 5 × profile (none, akeneo, bmecat, gmc, magento, shopify)
	for f in "$DATA"/catalogs/akeneo-icecat-demo/*.csv; do seed 5 "$(basename "$f")" "$f"; done
	for f in "$DATA"/catalogs/shopify/*.csv; do seed 25 "$(basename "$f")" "$f"; done
	for f in "$DATA"/catalogs/bmecat/*.xml; do seed 13 "$(basename "$f")" "$f"; done
	for f in "$DATA"/catalogs/google-merchant/*.xml; do seed 16 "$(basename "$f")" "$f"; done
	for f in "$DATA"/catalogs/google-merchant/*.tsv; do seed 17 "$(basename "$f")" "$f"; done
	for f in "$DATA"/catalogs/json/*; do seed 4 "$(basename "$f")" "$f"; done
	seed 20 imp-magento-export.csv tests/data/imp-magento-export.csv
	for f in tests/data/akeneo-submodels/*.csv; do seed 5 "sub-$(basename "$f")" "$f"; done
	for f in "$DATA"/hostile/csv/* "$DATA"/hostile/xml/*; do
		seed 0 "$(basename "$f")" "$f"
		seed 1 "$(basename "$f")" "$f"
	done
elif [ "$TARGET" = params ]; then
	i=0
	for s in 'w=800&h=600&fit=cover&fmt=webp&q=80&dpr=2' 'image/avif,image/webp;q=0.9,*/*' \
		"$(cat schemas/renditions.json)" 'c2t1OkFCQy0x' '1234.50' '2026-11-24T04:48:05.123Z' \
		'{"a":{"b":1}}' 'Crème brûlée — Ärger façade ﬁne'; do
		printf '%s' "$s" >"$OUT/line"
		seed "$i" "p$i" "$OUT/line"
		i=$((i + 1))
	done
	printf '{"a":{"b":1,"c":[1]}}\0{"a":{"b":null,"d":2}}' >"$OUT/line"
	seed 6 patch "$OUT/line"
else
	# bit 0: dry run; bit 1: merge patch
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s' "$line" >"$OUT/line"
		seed $((n % 4)) "demo-$n" "$OUT/line"
	done <schemas/demo/products.jsonl
fi

# shellcheck disable=SC2086
"$OUT/fuzz_$TARGET" -max_total_time="$SECONDS_MAX" ${FUZZ_FLAGS:-} -max_len=65536 -timeout=10 \
	-rss_limit_mb=2048 -artifact_prefix=tests/fuzz/findings/"$TARGET"- -print_final_stats=1 "$CORPUS"
