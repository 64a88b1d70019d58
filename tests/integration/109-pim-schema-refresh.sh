#!/usr/bin/env bash
# pimd schema refresh: a schema change recomputes the first chunk of the
# products it affects in its own transaction and the rest in the background,
# a chunk per transaction; the change feed says when that is done, and
# listings, product documents and cached projections all follow.
source "$(dirname "$0")/lib.sh"

start_pimd --refresh-chunk 3

for i in $(seq -w 1 12); do
	echo "{\"sku\":\"RF-$i\",\"family\":\"default\",\"values\":{\"name\":[{\"locale\":\"en_US\",\"channel\":null,\"data\":\"Mug $i\"}],\"price\":[{\"locale\":null,\"channel\":null,\"data\":[{\"amount\":\"9.50\",\"currency\":\"EUR\"}]}]}}"
done >"$TMP/rf.ndjson"
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/rf.ndjson"
check "12 products written" is "$(grep -c '"status":20[01]' "$TMP/body")" 12
complete_count() { req GET "$PIM/v1/products?family=default&complete=web/en_US&limit=100"; jqb '.items|length'; }
check "all 12 complete on web/en_US" is "$(complete_count)" 12
req GET "$PIM/v1/channels/web/products/RF-12?locale=en_US"; check "RF-12 is published on web" code_is 200

seq_now() { curl -fsS "$PIM/metrics" | awk '$1 == "pimd_change_seq" {print $2}'; }
# refreshed SINCE SCOPE [CODE]: a schema.refreshed change for it after SINCE
refreshed() {
	req GET "$PIM/v1/changes?since=$1&wait=5"
	[ "$(jqb --arg s "$2" --arg c "${3:-}" '[.items[]|select(.type=="schema.refreshed" and .scope==$s and (.code // "")==$c)]|length')" = 1 ]
}

# require brand on web: 3 products now, 9 in three background chunks
since=$(seq_now)
req GET "$PIM/v1/families/default"; jqb -c '.requirements.web += ["brand"]' >"$TMP/family.json"
req PUT "$PIM/v1/families/default" -H 'Content-Type: application/json' --data-binary @"$TMP/family.json"
check "the family change is accepted at once" code_is 200
req GET "$PIM/v1/channels/web/products/RF-12?locale=en_US" # may cache what is not refreshed yet
req GET "$PIM/v1/changes?since=$since"
check "schema.updated says the refresh goes on in the background" \
	is "$(jqb -r '.items[0] | .type + " " + .code + " " + .refresh')" "schema.updated default background"
check "a schema.refreshed change follows" eventually refreshed "$since" family default
check "no product of the family is complete on web/en_US any more" is "$(complete_count)" 0
req GET "$PIM/v1/products/RF-12"
check "the last product misses brand" is "$(jqb '.completeness["web/en_US"].missing|join(",")')" brand
req GET "$PIM/v1/channels/web/products/RF-12?locale=en_US"
check "its cached projection went with it: unpublished" code_is 404
curl -fsS "$PIM/metrics" >"$TMP/metrics"
check "nothing left in the queue" is "$(awk '$1 == "pimd_schema_refresh_queued" {print $2}' "$TMP/metrics")" 0
check "three chunks and the last look in the background" \
	is "$(awk '$1 == "pimd_schema_refresh_chunks_total" {print $2}' "$TMP/metrics")" 4
req GET "$PIM/v1/schema-refresh"
check "GET /v1/schema-refresh: nothing queued either" is "$(jqb -c .)" '{"queued":[]}'
check "it needs a token" is "$(curl -s -o /dev/null -w '%{http_code}' "$PIM/v1/schema-refresh")" 401

# a write during the refresh is judged by the new schema, and the refresh
# that reaches it later changes nothing
since=$(seq_now)
jq -c '.requirements.web -= ["brand"]' "$TMP/family.json" >"$TMP/family2.json"
req PUT "$PIM/v1/families/default" -H 'Content-Type: application/json' --data-binary @"$TMP/family2.json"
check "brand no longer required" code_is 200
reqj PATCH "$PIM/v1/products/RF-11" '{"values":{"name":[{"locale":"en_US","channel":null,"data":"Mug eleven"}]}}'
check "a product write meanwhile" code_is 200
check "refreshed again" eventually refreshed "$since" family default
check "all 12 complete again" is "$(complete_count)" 12

# a channel change refreshes every product
since=$(seq_now)
req GET "$PIM/v1/channels/web"; jqb -c '.locales += ["de_DE"]' >"$TMP/web.json"
req PUT "$PIM/v1/channels/web" -H 'Content-Type: application/json' --data-binary @"$TMP/web.json"
check "web gains de_DE" code_is 200
check "every product refreshed" eventually refreshed "$since" all
req GET "$PIM/v1/products/RF-01"
check "a product refreshed in the background counts web/de_DE" is "$(jqb '.completeness["web/de_DE"].missing|join(",")')" name

# the queue survives a restart: pimd goes on where it stopped
since=$(seq_now)
jq -c '.locales -= ["de_DE"]' "$TMP/web.json" >"$TMP/web2.json"
req PUT "$PIM/v1/channels/web" -H 'Content-Type: application/json' --data-binary @"$TMP/web2.json"
check "web drops de_DE" code_is 200
stop_all
start_pimd --refresh-chunk 3
check "after a restart the refresh is done" eventually refreshed "$since" all
req GET "$PIM/v1/products/RF-12"
check "no web/de_DE left on the last product" is "$(jqb '.completeness|has("web/de_DE")')" false
