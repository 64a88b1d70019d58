#!/usr/bin/env bash
# Import jobs against a fresh pimd with the starter schema: the real catalogs
# in ../shared/data (Google Merchant XML and TSV, Shopify, BMEcat, Magento
# fixture), reports with lines and fields, modes, dry runs, cancelling,
# hostile files, and the export → re-import round trip.
source "$(dirname "$0")/lib.sh"
start_pimd

num() { jqb ".$1"; }
count() { req GET "$PIM/v1/products?limit=1000&$1"; jqb '.items | length'; }

import_job "$DATA/catalogs/google-merchant/opispot_google_feed.xml" 'format=gmc-xml'
check "gmc-xml: job done" is "$(num status)" done
check "gmc-xml: Location names the job" is "$JOB_LOC" "/v1/imports/$JOB_ID"
check "gmc-xml: 486 items + 23 group parents, 13 repeat their group's color and size" is "$(num created)/$(num failed)" 496/13
check "gmc-xml: the repeats are reported as such" is "$(jqb '[.errors[] | select(.code=="duplicate_variant_axes")] | length')" 13
check "gmc-xml: rows counted" is "$(num rows)" 509
check "gmc-xml: bytes_done = bytes_total" is "$(num bytes_done)" "$(stat -c %s "$DATA/catalogs/google-merchant/opispot_google_feed.xml")"
req GET "$PIM/v1/products/6a17ffae-9f12-4aee-a88e-065550472ff5"
check "gmc-xml: variant under its item group" is "$(jqb .parent)" c984af97-0bb7-435d-9d0f-5a4caceef023
check "gmc-xml: price with its currency" is "$(jqb '.values.price[0].data[0] | "\(.amount) \(.currency)"')" "32.0 USD"
req GET "$PIM/v1/products/c984af97-0bb7-435d-9d0f-5a4caceef023"
check "gmc-xml: parent holds the brand" is "$(jqb '.values.brand[0].data')" Opispot

import_job "$DATA/catalogs/google-merchant/opispot_google_feed.xml" 'format=gmc-xml'
check "gmc-xml again: all unchanged" is "$(num unchanged)/$(num created)/$(num updated)" "496/0/0"

import_job "$DATA/catalogs/google-merchant/lake-erie-clothing_google_feed.tsv" 'format=gmc-tsv'
check "gmc-tsv: 160 items + 22 parents" is "$(num created)/$(num failed)" "182/0"
req GET "$PIM/v1/products/2d50ecb4-8320-40e2-ab5c-17883fe08b4c"
check "gmc-tsv: doubled quotes in a title" is "$(jqb '.values.name[0].data')" "\"Lake Erie Loot Crew\" Women's Spaghetti Strap Pirate Fest Tank Top"

import_job "$DATA/catalogs/shopify/apparel.csv" 'format=csv&profile=shopify'
check "shopify apparel: 20 products and 3 variants" is "$(num created)/$(num failed)" "23/0"
req GET "$PIM/v1/products/classic-varsity-top-3"
check "shopify: variant sku handle-N, size axis" is "$(jqb '.parent + " " + .values.size[0].data')" "classic-varsity-top Large"
check "shopify: single-axis group gets the by-size family" is "$(jqb .family)" apparel_size
import_job "$DATA/catalogs/shopify/jewelery.csv" 'format=csv&profile=shopify'
check "shopify jewelery: 26 created" is "$(num created)/$(num failed)" "26/0"
req GET "$PIM/v1/products/boho-earrings"
check "shopify: image rows attach to the product" bash -c "jq -r '.values.additional_image_links[0].data' '$TMP/body' | grep -q inspired-woman"

import_job "$ROOT/tests/data/imp-magento-export.csv" 'format=csv&profile=magento'
check "magento: 6 rows created" is "$(num created)/$(num failed)" "6/0"
req GET "$PIM/v1/products/MH01-S-Black"
check "magento: child linked by configurable_variations" is "$(jqb .parent)" MH01
req GET "$PIM/v1/products/MH01"
check "magento: HTML description kept as text" bash -c "jq -r '.values.description[0].data' '$TMP/body' | grep -q '^Ideal for cold-weather.*Machine wash/dry.\$'"

for f in olivere_bmecat12_new_catalog olivere_bmecat2005_new_catalog WEI_BMECat_1609801044 WEI_BMECat_7760056069 kstools_crossbase_bmecat12; do
	import_job "$DATA/catalogs/bmecat/$f.xml" 'format=bmecat'
	check "bmecat $f: imported" bash -c "[ '$(num status)' = done ] && [ '$(num failed)' = 0 ] && [ $(( $(num created) + $(num updated) )) -ge 1 ]"
done
req GET "$PIM/v1/categories?limit=1000"
check "bmecat: used catalog groups became categories" bash -c "jq -r '.items[].code' '$TMP/body' | grep -q '^bmecat_'"
import_job "$DATA/catalogs/bmecat/olivere_bmecat12_update_prices.xml" 'format=bmecat&mode=update'
check "bmecat T_UPDATE_PRICES: a patch of prices" is "$(num status)/$(num failed)" "done/0"

# A CSV with bad rows: each reported with its line and column, good rows kept.
printf 'sku;family;name-en_US;price-EUR;gender\nOK-1;default;Fine;10.00;female\nBAD-1;default;Bad price;12,5O;\n\nBAD-2;nosuchfamily;"two\nlines";;\nOK-2;default;Also fine;;nobody\nOK-3;default;Third;1.5;male\n' >"$TMP/rows.csv"
import_job "$TMP/rows.csv" 'format=csv'
check "csv: good rows written, bad ones failed" is "$(num created)/$(num failed)" "2/3"
check "csv: bad decimal reported at line 3 in column price-EUR" is "$(jqb '.errors[] | select(.code=="not_a_decimal") | "\(.line) \(.field)"')" "3 price-EUR"
check "csv: unknown family at line 5 (row after a blank line)" is "$(jqb '.errors[] | select(.field=="/family") | .line')" 5
check "csv: a multi-line cell moves the next row to line 7" is "$(jqb '.errors[] | select(.code=="unknown_option") | .line')" 7
check "csv: message a merchandiser reads" bash -c "jq -r '.errors[] | select(.code==\"not_a_decimal\") | .message' '$TMP/body' | grep -q \"'12,5O' is not a decimal amount\""

# Skus with decomposed accents (NFD, as files saved on macOS hold them):
# taken in NFC, so that a row typed either way is the same product
printf 'sku;family;parent;name-en_US;size\nTe\xcc\x81-1;apparel_size;;Tee;\nTe\xcc\x81-1-M;apparel_size;Te\xcc\x81-1;;m\nT\xc3\xa9-1;apparel_size;;Tee again;\n' >"$TMP/nfd.csv"
import_job "$TMP/nfd.csv" 'format=csv'
check "nfd: the product, its variant, then the NFC row updates the product" is "$(num created)/$(num updated)/$(num failed)" "2/1/0"
check "nfd: said once, on the first row" is "$(jqb '[.errors[] | select(.code=="sku_normalized") | "\(.line) \(.field)"] | join(",")')" "2 sku"
req GET "$PIM/v1/products/T%C3%A9-1-M"
check "nfd: the variant's sku and parent in NFC" is "$(jqb .parent)" $'T\xc3\xa9-1'
req GET "$PIM/v1/products/T%C3%A9-1"; check "nfd: one product, with the last row's name" is "$(jqb '.values.name[0].data')" "Tee again"

printf 'sku;family;name-en_US\nNEW-1;default;New\nOK-1;default;Changed\n' >"$TMP/modes.csv"
import_job "$TMP/modes.csv" 'format=csv&mode=update'
check "mode=update: missing product fails, existing updated" is "$(num updated)/$(num failed)/$(jqb '.errors[0].code')" "1/1/not_found"
import_job "$TMP/modes.csv" 'format=csv&mode=create'
check "mode=create: existing product fails" is "$(num created)/$(num failed)/$(jqb '.errors[0].code')" "1/1/exists"
printf 'sku;family;name-en_US\nDRY-1;default;Dry\n' >"$TMP/dry.csv"
import_job "$TMP/dry.csv" 'format=csv&dry_run=true'
check "dry_run: validated and counted" is "$(num created)/$(jqb .dry_run)" "1/true"
req GET "$PIM/v1/products/DRY-1"; check "dry_run: nothing written" code_is 404

import_job "$DATA/catalogs/bmecat/WEI_BMECat_1609801044.xml" ''
check "no format given: told from the file" is "$(jqb '.format + " " + .profile + " " + .status')" "bmecat bmecat done"
import_job "$DATA/catalogs/google-merchant/lake-erie-clothing_google_feed.tsv" ''
check "no format given: Merchant TSV by its header" is "$(jqb '.format + " " + .profile')" "gmc-tsv gmc"
req POST "$PIM/v1/imports?format=xls" --data-binary 'x'; check "unknown format: 400" code_is 400
req POST "$PIM/v1/imports?format=csv&profile=nosuch" --data-binary 'x'; check "unknown profile: 400" code_is 400
req POST "$PIM/v1/imports?format=csv"; check "empty body: 400" code_is 400
AS_TOKEN= req POST "$PIM/v1/imports?format=csv" --data-binary 'x'; check "no token: 401" code_is 401
req GET "$PIM/v1/imports/imp_ffff"; check "unknown job: 404" code_is 404

for f in "$DATA"/hostile/xml/*.xml; do
	if [ ! -s "$f" ]; then
		req POST "$PIM/v1/imports?format=gmc-xml" --data-binary @"$f"
		check "hostile $(basename "$f"): empty body refused" code_is 400
		continue
	fi
	import_job "$f" 'format=gmc-xml'
	check "hostile $(basename "$f"): failed with a message" bash -c "[ '$(num status)' = failed ] && [ -n \"\$(jq -r .error '$TMP/body')\" ]"
done
import_job "$DATA/hostile/xml/xmlbomb.xml" 'format=bmecat'
check "bomb as bmecat: failed" is "$(num status)" failed
for f in "$DATA"/hostile/csv/*.csv; do
	import_job "$f" 'format=csv'
	check "hostile $(basename "$f"): failed cleanly" is "$(num status)" failed
done
import_job "$DATA/hostile/csv/invalid-byte-sequence.csv" 'format=csv'
check "bad encoding names the line and byte" bash -c "jq -r .error '$TMP/body' | grep -q 'line 1, byte [0-9]*: the file is not UTF-8'"
req GET "$PIM/healthz"; check "pimd alive after the hostile files" code_is 200

# Cancel: a job queued behind a long one is cancelled before it runs; the
# long one is cancelled while it runs and stops early.
python3 -c "
import sys
with open(sys.argv[1],'w') as f:
  f.write('sku;family;name-en_US\n')
  for i in range(100000): f.write('C-%d;default;Name %d\n' % (i,i))" "$TMP/big.csv"
head -1001 "$TMP/big.csv" >"$TMP/small.csv"
req POST "$PIM/v1/imports?format=csv&dry_run=true" --data-binary @"$TMP/big.csv"; first=$(jqb .id)
req POST "$PIM/v1/imports?format=csv" --data-binary @"$TMP/small.csv"; second=$(jqb .id)
req DELETE "$PIM/v1/imports/$second"; check "cancel of a queued job answers 202" code_is 202
req POST "$PIM/v1/imports/$first/cancel"; check "cancel of the running job answers 202" code_is 202
for i in $(seq 1 600); do req GET "$PIM/v1/imports/$first"; [ "$(jqb .status)" = cancelled ] && break; sleep 0.1; done
check "the running job stopped early" bash -c "[ '$(jqb .status)' = cancelled ] && [ $(jqb .rows) -lt 100000 ]"
for i in $(seq 1 600); do req GET "$PIM/v1/imports/$second"; [ "$(jqb .status)" = cancelled ] && break; sleep 0.1; done
check "the queued job reports cancelled" is "$(jqb .status)/$(jqb .rows)" cancelled/0
req GET "$PIM/v1/products/C-1"; check "the cancelled jobs wrote nothing" code_is 404
req DELETE "$PIM/v1/imports/$second"; check "cancel of a finished job: 409" code_is 409
# A real import cancelled while it runs keeps the rows its report counts.
req POST "$PIM/v1/imports?format=csv" --data-binary @"$TMP/big.csv"; third=$(jqb .id)
for i in $(seq 1 600); do req GET "$PIM/v1/imports/$third"; [ "$(jqb .rows)" -gt 0 ] && break; sleep 0.05; done
req POST "$PIM/v1/imports/$third/cancel"
for i in $(seq 1 600); do req GET "$PIM/v1/imports/$third"; [ "$(jqb .status)" = cancelled ] && break; sleep 0.1; done
kept=$(jqb .created)
check "a cancelled import: stopped early" bash -c "[ '$(jqb .status)' = cancelled ] && [ $kept -gt 0 ] && [ $kept -lt 100000 ]"
req GET "$PIM/v1/products/C-$((kept - 1))"; check "a cancelled import: its last counted row is kept" code_is 200
req GET "$PIM/v1/products/C-$kept"; check "a cancelled import: nothing after it" code_is 404

req GET "$PIM/v1/imports?limit=5"
check "job list, newest first" bash -c "[ \$(jq '.items | length' '$TMP/body') = 5 ] && [ \"\$(jq -r '.items[0].id' '$TMP/body')\" \\> \"\$(jq -r '.items[4].id' '$TMP/body')\" ]"
req GET "$PIM/v1/imports?limit=1000"; all=$(jqb '[.items[].id]|join(",")'); njobs=$(jqb '.items|length')
check "job list: the errors are left out" is "$(jqb '[.items[]|has("errors")]|any')" false
paged "$PIM/v1/imports?limit=2" id
check "job list pages of 2 cover every job once, in order ($njobs jobs)" is "$PAGED" "$all"
check "more than one page" bash -c "[ $PAGES -gt 1 ]"
req GET "$PIM/v1/imports?cursor=garbage"; check "job list: a made-up cursor is 400" code_is 400

# Export → re-import in update mode changes nothing.
req GET "$PIM/v1/exports/products.csv"; check "export csv" code_is 200
cp "$TMP/body" "$TMP/export.csv"
rows=$(python3 -c 'import csv,sys;print(sum(1 for _ in csv.reader(open(sys.argv[1],encoding="utf-8",newline="")))-1)' "$TMP/export.csv")
check "export has every product" bash -c "[ $rows -ge 700 ]"
import_job "$TMP/export.csv" 'format=csv&mode=update'
check "re-import of the export: all unchanged" is "$(num unchanged)/$(num updated)/$(num created)/$(num failed)" "$rows/0/0/0"
req GET "$PIM/v1/exports/products.jsonl"; check "export jsonl" code_is 200
cp "$TMP/body" "$TMP/export.jsonl"
import_job "$TMP/export.jsonl" 'format=jsonl&mode=update'
check "re-import of the JSON lines: all unchanged" is "$(num unchanged)/$(num updated)/$(num failed)" "$rows/0/0"
reqj PUT "$PIM/v1/products/FORMULA-1" '{"sku":"FORMULA-1","family":"default","values":{"name":[{"locale":"en_US","channel":null,"data":"=HYPERLINK(\"x\")"}]}}'
req GET "$PIM/v1/exports/products.csv?channel=app&locale=de_DE"
check "export in a locale the channel lacks: 400, as its feed" code_is 400
req GET "$PIM/v1/exports/products.csv?locale=en_US"
check "formula cells neutralised" grep -q "^FORMULA-1,default,,,1,.*'=HYPERLINK" "$TMP/body"
check "locale filter keeps en_US only" bash -c "! head -1 '$TMP/body' | grep -q 'fr_FR'"
cp "$TMP/body" "$TMP/export-en.csv"
import_job "$TMP/export-en.csv" 'format=csv&mode=update'
check "neutralised cell re-imports unchanged" is "$(num updated)/$(num failed)" "0/0"

# A merchandiser's import writes categories, not the rest of the schema.
reqj POST "$PIM/v1/tokens" '{"name":"imp-merch","role":"merchandiser"}'; merch=$(jqb .token)
AK=$DATA/catalogs/akeneo-icecat-demo
AS_TOKEN=$merch import_job "$AK/association_types.csv" 'format=csv&profile=akeneo'
check "merchandiser: association types refused, each said" bash -c "[ \$(jq '[.errors[]|select(.code==\"schema_refused\" and (.message|test(\"written by admins\")))]|length' '$TMP/body') -ge 1 ]"
req GET "$PIM/v1/association-types?limit=1000"
check "merchandiser: none written" is "$(jqb '[.items[].code]|index("X_SELL")')" null
import_job "$AK/association_types.csv" 'format=csv&profile=akeneo'
check "admin: the same file writes them" is "$(jqb '[.errors[]|select(.code=="schema_refused")]|length')" 0
req GET "$PIM/v1/association-types?limit=1000"
check "admin: written" is "$(jqb '[.items[].code]|index("X_SELL") != null')" true

# Reports survive a restart.
stop_all; start_pimd
req GET "$PIM/v1/imports/$JOB_ID"; check "report kept after restart" is "$(jqb .status)" done
