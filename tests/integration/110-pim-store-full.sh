#!/usr/bin/env bash
# A store that reaches its map size (--map-size) refuses the writes that do
# not fit with 507 and says why, keeps everything committed before, keeps
# serving, and takes writes again once restarted with a larger map.
source "$(dirname "$0")/lib.sh"

start_pimd --map-size 3M

# batches of 100 small products until one does not fit
full=0
for i in $(seq 1 80); do
	python3 -c "
import json
for k in range($i * 100, $i * 100 + 100):
    print(json.dumps({'sku': 'FULL-%06d' % k, 'family': 'default',
        'values': {'name': [{'locale': 'en_US', 'channel': None, 'data': 'product %d, a name long enough to fill pages' % k}]}}))
" >"$TMP/batch.ndjson"
	req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/batch.ndjson"
	[ "$CODE" = 200 ] || break
	if [ "$(jq -s '[.[] | select(.status != 201)] | length' "$TMP/body")" != 0 ]; then full=$i; break; fi
done
check "a batch that does not fit in the map is refused" test "$full" -gt 1
check "each of its lines is 507 insufficient_storage" \
	is "$(jq -s '[.[] | "\(.status) \(.errors[0].code)"] | unique | join(",")' -r "$TMP/body")" "507 insufficient_storage"
check "the line says the store is full and what to do" \
	bash -c "jq -r '.errors[0].message' '$TMP/body' | head -1 | grep -q 'the store is full.*--map-size'"
check "the log names the first failure, not a later MDB_BAD_TXN" \
	bash -c "grep 'batch lines=' '$TMP/pimd.log' | grep -q 'the store is full' && ! grep -q BAD_TXN '$TMP/pimd.log'"
req GET "$PIM/v1/products/FULL-000150"; check "products committed before are there" code_is 200
req GET "$PIM/v1/products/FULL-$(printf %06d $((full * 100)))"; check "nothing of the refused batch was written" code_is 404

# single writes until one does not fit either
big=$(head -c 3000 /dev/zero | tr '\0' x)
for j in $(seq 1 300); do
	reqj PUT "$PIM/v1/products/BIG-$j" "{\"sku\":\"BIG-$j\",\"family\":\"default\",\"values\":{\"description\":[{\"locale\":\"en_US\",\"channel\":null,\"data\":\"$big\"}]}}"
	[ "$CODE" = 201 ] || break
done
check "a PUT that does not fit: 507" code_is 507
check "as problem+json naming the store's map size" \
	is "$(header content-type) $(jqb .title) $(jqb '.detail | test("map size")')" "application/problem+json Insufficient Storage true"
req GET "$PIM/healthz"; check "pimd keeps serving" code_is 200

printf 'sku,family,name-en_US\n' >"$TMP/full.csv"
for k in $(seq 1 300); do printf 'CSV-%04d,default,row %d %s\n' "$k" "$k" "${big:0:200}"; done >>"$TMP/full.csv"
import_job "$TMP/full.csv" 'format=csv'
check "an import into the full store fails and says why" \
	bash -c "[ \"\$(jq -r .status '$TMP/body')\" = failed ] && jq -r .error '$TMP/body' | grep -q 'the store is full'"

stop_all
start_pimd --map-size 64M
reqj PUT "$PIM/v1/products/BIG-$j" "{\"sku\":\"BIG-$j\",\"family\":\"default\"}"
check "restarted with a larger map, the same PUT succeeds" code_is 201
req GET "$PIM/v1/products/FULL-000150"; check "and the earlier products are intact" code_is 200
