#!/usr/bin/env bash
# Import requests and reports: the locale a feed's names go to, strict
# booleans, file errors with their line and byte, BMEcat articles written
# once, and the report of a job pimd did not live to finish.
source "$(dirname "$0")/lib.sh"
start_pimd

num() { jqb ".$1"; }
C=$DATA/catalogs
problem() { code_is 400 && is "$(header content-type)" application/problem+json; }

# The locale: the request's, else the profile's, else the catalog default
# (the first locale of channel web: en_US), never the first code in key
# order (de_DE).
TSV=$C/google-merchant/lake-erie-clothing_google_feed.tsv
SKU=2d50ecb4-8320-40e2-ab5c-17883fe08b4c
import_job "$TSV" 'format=gmc-tsv'
req GET "$PIM/v1/products/$SKU"
check "no locale named: names under the catalog default" is "$(jqb '[.values.name[].locale] | join(",")')" en_US
check "no locale named: descriptions too" is "$(jqb '[.values.description[].locale] | join(",")')" en_US
import_job "$TSV" 'format=gmc-tsv&locale=fr_FR'
check "locale=fr_FR: the report names it" is "$(num status)/$(num locale)" done/fr_FR
req GET "$PIM/v1/products/$SKU"
check "locale=fr_FR: names under fr_FR" is "$(jqb '[.values.name[].locale] | join(",")')" fr_FR
req POST "$PIM/v1/imports?format=gmc-tsv&locale=xx_XX" --data-binary @"$TSV"
check "an unknown locale: 400 problem" problem
check "an unknown locale: named" bash -c "jq -r .detail '$TMP/body' | grep -q \"locale 'xx_XX' is not a locale of the catalog\""
printf 'sku;family;name\nLOC-1;default;Ein Name\n' >"$TMP/loc.csv"
"$BIN/pimctl" import --url "$PIM" --token "$TOKEN" --quiet --format csv --locale de_DE "$TMP/loc.csv" >/dev/null
req GET "$PIM/v1/products/LOC-1"
check "pimctl import --locale de_DE" is "$(jqb '.values.name[0].locale + " " + .values.name[0].data')" "de_DE Ein Name"

# Booleans are strict: a value that is not one never runs a real import.
printf 'sku;family;name-en_US\nBOOL-1;default;Dry\n' >"$TMP/bool.csv"
for v in True TRUE Yes 1; do
	import_job "$TMP/bool.csv" "format=csv&dry_run=$v"
	check "dry_run=$v is a dry run" is "$(jqb .dry_run)/$(num created)" true/1
done
req GET "$PIM/v1/products/BOOL-1"; check "the dry runs wrote nothing" code_is 404
for v in on maybe 2; do
	req POST "$PIM/v1/imports?format=csv&dry_run=$v" --data-binary @"$TMP/bool.csv"
	check "dry_run=$v: 400 problem" problem
	check "dry_run=$v: the message names the parameter" bash -c "jq -r .detail '$TMP/body' | grep -q \"^dry_run '$v' is not a boolean\""
done
req GET "$PIM/v1/products/BOOL-1"; check "refused values wrote nothing" code_is 404
import_job "$TMP/bool.csv" "format=csv&dry_run=No"
check "dry_run=No is a real import" is "$(jqb .dry_run)/$(num created)" false/1

# A bad inline profile says so once.
req POST "$PIM/v1/imports?format=csv" -H 'X-Import-Profile: 4)' --data-binary @"$TMP/bool.csv"
check "bad X-Import-Profile: 400 problem" problem
check "bad X-Import-Profile: its prefix once" is "$(jqb .detail | grep -o 'X-Import-Profile is not a JSON object' | wc -l)" 1

# File errors: the line and byte in the entry's own fields.
import_job "$DATA/hostile/csv/invalid-byte-sequence.csv" 'format=csv'
check "not UTF-8: line and byte fields" is "$(jqb '.errors[-1] | "\(.code) \(.line) \(.byte)"')" "malformed_file 1 33"
printf 'sku;family;name-en_US\nU-1;default;A\nU-2;default;B\nU-3;default;caf\xe9\n' >"$TMP/latin1.csv"
import_job "$TMP/latin1.csv" 'format=csv'
check "not UTF-8 on line 4" is "$(jqb '.errors[-1] | "\(.line) \(.byte)"')" "4 65"
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
  f.write('sku;family;name-en_US\\nW-1;default;A\\nW-2;default;B\\nW-3;default;\\\"a\\nb\\\"')
  f.write(';' * 20001 + '\\nW-4;default;D\\n')
" "$TMP/wide.csv"
import_job "$TMP/wide.csv" 'format=csv'
check "a record of too many fields: failed at its first line" is "$(jqb '.status + " " + (.errors[-1] | "\(.code) \(.line)")')" "failed malformed_file 4"
check "a record of too many fields: rows before it counted" is "$(num created)" 2
req GET "$PIM/v1/products/W-2"; check "a record of too many fields: rows before it kept" code_is 200
printf '{"sku":"J-1","family":"default"}\n{"sku":"J-2","family":"default","values":{"name":[{"locale":"en_US","channel":null,"data":"' >"$TMP/long.jsonl"
head -c $((17 << 20)) /dev/zero | tr '\0' x >>"$TMP/long.jsonl"
printf '"}]}}\n' >>"$TMP/long.jsonl"
import_job "$TMP/long.jsonl" 'format=jsonl'
check "a JSON line over 16 MiB: failed at its line" is "$(jqb '.status + " " + (.errors[-1] | "\(.code) \(.line)")')" "failed malformed_file 2"
check "a JSON line over 16 MiB: the line before it counted" is "$(num created)" 1
req GET "$PIM/v1/products/J-1"; check "a JSON line over 16 MiB: the line before it kept" code_is 200
# A feed cut off after its third item: those items stay, the cut is named.
head -66 "$C/google-merchant/opispot_google_feed.xml" >"$TMP/cut.xml"
printf '        <item>\n            <g:id>CUT-1</g:id>\n            <g:title>Cut' >>"$TMP/cut.xml"
import_job "$TMP/cut.xml" 'format=gmc-xml'
check "a feed cut off: failed at the cut" is "$(jqb '.status + " " + (.errors[-1] | "\(.code) \(.line)")')" "failed malformed_file 69"
check "a feed cut off: the items before it counted (each with its group's parent)" is "$(num rows)/$(num created)" 6/6
req GET "$PIM/v1/products/6a17ffae-9f12-4aee-a88e-065550472ff5"; check "a feed cut off: the items before it kept" code_is 200
import_job "$DATA/hostile/xml/xmlbomb.xml" 'format=gmc-xml'
check "the bomb: where libxml2 found the loop" is "$(jqb '.errors[-1] | "\(.line) \(.byte)"')" "7 175"
check "the bomb: in plain words" bash -c "jq -r .error '$TMP/body' | grep -q '^line 7, byte 175: the document declares entities'"
import_job "$DATA/hostile/xml/unclosed-element.xml" 'format=gmc-xml'
check "an unclosed element: said so" bash -c "jq -r .error '$TMP/body' | grep -q '^line 1, byte 3: the file ends inside an element that is never closed'"
check "an unclosed element: fields" is "$(jqb '.errors[-1] | "\(.line) \(.byte)"')" "1 3"

# BMEcat: an article and its catalog-group map are one row, one version.
import_job "$C/bmecat/kstools_crossbase_bmecat12.xml" 'format=bmecat'
check "kstools: one article, one row" is "$(num rows)/$(num created)/$(num updated)/$(num failed)" 1/1/0/0
req GET "$PIM/v1/products/100.1180"
check "kstools: written once, with its categories" is "$(jqb '.version')/$(jqb '.categories | length')" 1/2
import_job "$C/bmecat/olivere_bmecat12_update_products.xml" 'format=bmecat'
check "a delete of an unknown article: not_found" is "$(jqb '[.errors[] | select(.field=="sku") | .code] | join(",")')" not_found
check "a delete of an unknown article: nothing to disable" bash -c "jq -r '.errors[] | select(.field==\"sku\") | .message' '$TMP/body' | grep -q \"no product '2000' to delete\""

# A job pimd did not live to finish keeps the figures of its last commit.
python3 -c "
import sys
with open(sys.argv[1],'w') as f:
  f.write('sku;family;name-en_US\n')
  for i in range(60000): f.write('K-%d;default;Name %d\n' % (i,i))" "$TMP/crash.csv"
req POST "$PIM/v1/imports?format=csv" --data-binary @"$TMP/crash.csv"; id=$(jqb .id)
for i in $(seq 1 600); do req GET "$PIM/v1/imports/$id"; [ "$(jqb .rows)" -ge 6000 ] && break; sleep 0.05; done
kill -9 "$PIM_PID"; wait "$PIM_PID" 2>/dev/null; PIDS=()
start_pimd
req GET "$PIM/v1/imports/$id"
check "after a crash: failed, interrupted" is "$(num status)/$(jqb '.errors[-1].code')" failed/interrupted
check "after a crash: the format and size stay" is "$(num format)/$(num bytes_total)" "csv/$(stat -c %s "$TMP/crash.csv")"
created=$(num created)
check "after a crash: rows and created say how far it got" bash -c "[ $(num rows) -ge 6000 ] && [ $created -ge 6000 ] && [ $created -lt 60000 ]"
req GET "$PIM/v1/products/K-$((created - 1))"; check "the last product counted is there" code_is 200
