#!/usr/bin/env bash
# pimctl against a running pimd (import with its report, check, export,
# token create) and offline into a stopped pimd's data directory.
source "$(dirname "$0")/lib.sh"
start_pimd
CTL=$BIN/pimctl
export PIM_TOKEN=$TOKEN

"$CTL" import --url "$PIM" --profile shopify "$DATA/catalogs/shopify/apparel.csv" >"$TMP/out" 2>"$TMP/err"
check "import: exit 0" is $? 0
check "import: report line" grep -q '^done: 23 rows, 23 created, 0 updated, 0 unchanged, 0 failed' "$TMP/out"

printf 'sku;family;name-en_US;price-EUR\nX-1;default;a;1.00\nX-2;default;b;1,5\n' >"$TMP/x.csv"
"$CTL" check --url "$PIM" "$TMP/x.csv" >"$TMP/out" 2>&1
check "check: failed rows give exit 1" is $? 1
check "check: the bad cell with its line and column" grep -q "^line 3, price-EUR: '1,5' is not a decimal amount" "$TMP/out"
check "check: dry run said so" grep -q 'dry run: nothing written' "$TMP/out"
req GET "$PIM/v1/products/X-1"; check "check wrote nothing" code_is 404

"$CTL" import --url "$PIM" --format gmc-xml "$DATA/hostile/xml/xmlbomb.xml" >"$TMP/out" 2>&1
check "import of a bomb: exit 1" is $? 1
check "import of a bomb: the error is shown" grep -q '^error: .*entit' "$TMP/out"

if command -v script >/dev/null; then
	# a terminal on stderr: the progress bar is drawn
	script -qec "$CTL import --url $PIM --format gmc-tsv $DATA/catalogs/google-merchant/lake-erie-clothing_google_feed.tsv" /dev/null >"$TMP/tty" 2>&1
	check "progress bar with percent, rows/s and ETA on a terminal" grep -qE '\[#+\.*\] +[0-9.]+%  [0-9]+ rows  [0-9]+ rows/s  ETA' "$TMP/tty"
fi

"$CTL" export --url "$PIM" -o "$TMP/e.csv"
check "export: exit 0" is $? 0
check "export: header and rows" bash -c "head -1 '$TMP/e.csv' | grep -q '^sku,family,parent,categories,enabled' && [ \$(wc -l <'$TMP/e.csv') -gt 200 ]"
"$CTL" export --url "$PIM" --format jsonl --channel web --locale en_US >"$TMP/e.jsonl"
check "export jsonl per channel and locale" bash -c "[ \$(wc -l <'$TMP/e.jsonl') -gt 200 ] && ! grep -q '\"fr_FR\"' '$TMP/e.jsonl'"

secret=$("$CTL" token create shop-feed merchandiser --url "$PIM")
check "token create prints the secret" test ${#secret} -ge 32
AS_TOKEN=$secret req GET "$PIM/v1/imports"; check "the new token works" code_is 200
"$CTL" token create x nosuchrole --url "$PIM" 2>/dev/null; check "unknown role: usage error" is $? 2

"$CTL" import --offline --data "$PIM_DATA" "$TMP/x.csv" >"$TMP/out" 2>&1
check "offline while pimd runs: refused" is $? 1
check "offline refusal says why" grep -q 'running pimd' "$TMP/out"

stop_all
"$CTL" import --offline --data "$PIM_DATA" --schemas "$ROOT/schemas" "$DATA/catalogs/google-merchant/opispot_google_feed.xml" >"$TMP/out" 2>&1
check "offline import into the stopped pimd's data" grep -q '^done: 509 rows, 496 created' "$TMP/out"
"$CTL" export --offline --data "$PIM_DATA" --format csv -o "$TMP/off.csv"
check "offline export" bash -c "[ \$(wc -l <'$TMP/off.csv') -gt 700 ]"
start_pimd
req GET "$PIM/v1/products/6a17ffae-9f12-4aee-a88e-065550472ff5"
check "pimd serves what was loaded offline" code_is 200
mkdir -p "$TMP/fresh"
"$CTL" import --offline --data "$TMP/fresh" --schemas "$ROOT/schemas" --profile shopify "$DATA/catalogs/shopify/jewelery.csv" >"$TMP/out" 2>&1
check "offline first load into an empty directory seeds the starter schema" grep -q '^done: 26 rows, 26 created' "$TMP/out"
# without the starter (PIMD_NO_STARTER, as pimd's --no-starter) the store
# has none of the attributes the shopify profile maps to, nor a family:
# the columns are reported up front and every row fails
mkdir -p "$TMP/bare"
PIMD_NO_STARTER=1 "$CTL" import --offline --data "$TMP/bare" --schemas "$ROOT/schemas" --profile shopify "$DATA/catalogs/shopify/jewelery.csv" >"$TMP/out" 2>&1
check "offline first load with PIMD_NO_STARTER: nothing created" grep -q '^done: 26 rows, 0 created' "$TMP/out"
check "the columns the starter would have taken are reported" grep -q "attribute 'name', which the schema does not have" "$TMP/out"

# a schema change in an offline import (new options of an attribute the
# family uses): pimctl finishes the refresh of the family's products itself
# before it exits (here in chunks of 2), leaving pimd nothing to do
mkdir -p "$TMP/refresh"
printf 'code;label-en_US;attributes;attribute_as_label;attribute_as_image;requirements-web\nmugs;Mugs;sku,name,condition;name;;name\n' >"$TMP/families.csv"
{ echo 'sku,family,name-en_US'; for i in 1 2 3 4 5; do echo "MUG-$i,mugs,Mug $i"; done; } >"$TMP/mugs.csv"
printf 'attribute;code;sort_order;label-en_US\ncondition;new;1;New\ncondition;used;2;Used\ncondition;mint;3;Mint\n' >"$TMP/attribute_options.csv"
"$CTL" import --offline --data "$TMP/refresh" --schemas "$ROOT/schemas" --profile akeneo "$TMP/families.csv" >"$TMP/out" 2>&1
"$CTL" import --offline --data "$TMP/refresh" --schemas "$ROOT/schemas" "$TMP/mugs.csv" >>"$TMP/out" 2>&1
PIMD_REFRESH_CHUNK=2 "$CTL" import --offline --data "$TMP/refresh" --schemas "$ROOT/schemas" --profile akeneo "$TMP/attribute_options.csv" >>"$TMP/out" 2>&1
check "offline: a family, its products, then new options" \
	is "$(grep -c -e '^done: 5 rows, 5 created' -e '^done: .*, 1 schema documents written' "$TMP/out")" 3
PIM_DATA=$TMP/refresh start_pimd
req GET "$PIM/v1/changes?since=0&limit=1000"
check "the change feed says the family's refresh is done" \
	is "$(jqb '[.items[]|select(.type=="schema.refreshed")|.scope+" "+.code]|join(",")')" "family mugs"
curl -fsS "$PIM/metrics" >"$TMP/metrics"
check "pimd found no refresh left to do" \
	is "$(awk '$1 == "pimd_schema_refresh_chunks_total" {print $2}' "$TMP/metrics")" 0
