#!/usr/bin/env bash
# pimd history, revert and the change feed: every accepted change is
# recorded with who, when and the fields' old and new values; revert is a
# new version; /v1/changes has a global sequence and long-polls until a
# write commits.
source "$(dirname "$0")/lib.sh"

start_pimd

reqj POST "$PIM/v1/tokens" '{"name":"merch-ann","role":"merchandiser"}'; ann=$(jqb .token)
name() { jq -cn --arg n "$1" '[{locale:"en_US",channel:null,data:$n}]'; }
AS_TOKEN=$ann reqj PUT "$PIM/v1/products/H-1" "{\"sku\":\"H-1\",\"family\":\"home\",\"values\":{\"name\":$(name 'Linen sheet')}}"
check "v1" is "$(jqb .version)" 1
AS_TOKEN=$ann reqj PATCH "$PIM/v1/products/H-1" "{\"values\":{\"name\":$(name 'Linen sheet set')}}"
check "v2" is "$(jqb .version)" 2
reqj PATCH "$PIM/v1/products/H-1" '{"categories":["bedding"],"values":{"brand":[{"locale":null,"channel":null,"data":"Maison"}]}}'
check "v3" is "$(jqb .version)" 3
reqj PATCH "$PIM/v1/products/H-1" '{"categories":["bedding"]}'; check "no-op PATCH keeps v3" is "$(jqb .version)" 3

req GET "$PIM/v1/products/H-1/history"; check "history: 200" code_is 200
check "three versions, oldest first" is "$(jqb '[.items[].version]|map(tostring)|join(",")')" 1,2,3
check "who: the token's name" is "$(jqb '.items[1].by')" merch-ann
check "when: RFC 3339" bash -c "[[ '$(jqb '.items[1].at')' =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]"
check "v2 changed /values/name" is "$(jqb '[.items[1].changes[].path]|join(",")')" /values/name
check "old value recorded" is "$(jqb '.items[1].changes[0].old[0].data')" "Linen sheet"
check "new value recorded" is "$(jqb '.items[1].changes[0].new[0].data')" "Linen sheet set"
check "v3 changed categories and brand" is "$(jqb '[.items[2].changes[].path]|sort|join(",")')" /categories,/values/brand
check "a new value's old is null" is "$(jqb '.items[2].changes[]|select(.path=="/values/brand")|.old')" null
check "v1: the created document, field by field" is "$(jqb '[.items[0].changes[].path]|sort|join(",")')" /associations,/categories,/enabled,/family,/values/name
check "v1: its values as created, not as now" is "$(jqb '.items[0].changes[]|select(.path=="/values/name")|.new[0].data')" "Linen sheet"
check "v1: every old is null" is "$(jqb '[.items[0].changes[].old]|unique|tostring')" "[null]"
req GET "$PIM/v1/products/H-1/history?limit=2"; check "paged history" is "$(jqb '[.items[].version]|map(tostring)|join(",")')" 1,2
cur=$(jqb .next_cursor)
req GET "$PIM/v1/products/H-1/history?limit=2&cursor=$cur"; check "history page 2" is "$(jqb '[.items[].version]|map(tostring)|join(",")')" 3
req GET "$PIM/v1/products/NOPE/history"; check "history of an unknown product: 404" code_is 404

# revert
reqj POST "$PIM/v1/products/H-1/revert" '{"version":1}'; check "revert: 200" code_is 200
check "revert makes a new version" is "$(jqb .version)" 4
check "reverted name" is "$(jqb '.values.name[0].data')" "Linen sheet"
check "reverted categories" is "$(jqb '.categories|length')" 0
check "reverted brand gone" is "$(jqb '.values|has("brand")')" false
req GET "$PIM/v1/products/H-1/history"; check "revert recorded in history" is "$(jqb '.items[3].version')" 4
reqj POST "$PIM/v1/products/H-1/revert" '{"version":3}' -H 'If-Match: "3"'; check "revert with stale If-Match: 412" code_is 412
reqj POST "$PIM/v1/products/H-1/revert" '{"version":99}'; check "revert to a missing version: 404" code_is 404
reqj POST "$PIM/v1/products/H-1/revert" '{}'; check "revert without a version: 422" code_is 422
# a revert the schema no longer allows is refused
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"text"}'
reqj PUT "$PIM/v1/families/home" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/families/home" | jq -c '.attributes += ["fabric"]')"
reqj PATCH "$PIM/v1/products/H-1" '{"values":{"fabric":[{"locale":null,"channel":null,"data":"linen"}]}}'; check "v5 with fabric" is "$(jqb .version)" 5
reqj PATCH "$PIM/v1/products/H-1" '{"values":{"fabric":null}}'; check "v6 without" is "$(jqb .version)" 6
reqj PUT "$PIM/v1/families/home" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/families/home" | jq -c '.attributes -= ["fabric"]')"
reqj POST "$PIM/v1/products/H-1/revert" '{"version":5}'; check "revert to what the schema forbids now: 422" code_is 422
req GET "$PIM/v1/products/H-1"; check "version unchanged by the refused revert" is "$(jqb .version)" 6
# delete, recreate: versions go on
req DELETE "$PIM/v1/products/H-1"; check "delete" code_is 204
reqj PUT "$PIM/v1/products/H-1" "{\"sku\":\"H-1\",\"family\":\"home\",\"values\":{}}"; check "recreated" code_is 201
check "recreated product continues the version count" is "$(jqb .version)" 8
reqj POST "$PIM/v1/products/H-1/revert" '{"version":2}'; check "revert across the delete" is "$(jqb '.values.name[0].data')" "Linen sheet set"
req GET "$PIM/v1/products/H-1/history"
check "the delete: one change at \"\" from the whole product" is "$(jqb '.items[6].changes|map(.path + "=" + (.old.values.name[0].data|tostring) + "," + (.new|tostring))|join(";")')" "=Linen sheet,null"
check "the re-creation: its own document" is "$(jqb '[.items[7].changes[]|.path + "=" + (.new|tostring)]|join(";")')" '/family=home;/categories=[];/enabled=true;/associations={}'
check "v1 still the first document after the delete" is "$(jqb '.items[0].changes[]|select(.path=="/values/name")|.new[0].data')" "Linen sheet"

# change feed
req GET "$PIM/v1/changes?since=0&limit=1000"; check "changes: 200" code_is 200
check "feed lists H-1 updates and its delete" is "$(jqb '[.items[]|select(.sku=="H-1")|.type]|unique|join(",")')" product.deleted,product.updated
check "schema changes in the feed" bash -c "jq -e '[.items[]|select(.type==\"schema.updated\" and .code==\"home\")]|length>0' '$TMP/body' >/dev/null"
check "sequence strictly increasing" bash -c "jq -e '[.items[].seq] as \$s | \$s == (\$s|sort) and (\$s|unique|length)==(\$s|length)' '$TMP/body' >/dev/null"
last=$(jqb .next_since)
check "next_since is the last seq" is "$last" "$(jqb '.items[-1].seq')"
req GET "$PIM/v1/changes?since=$last"; check "nothing new: empty" is "$(jqb '.items|length')" 0
check "next_since stays" is "$(jqb .next_since)" "$last"
req GET "$PIM/v1/changes?since=0&limit=2"; check "limit" is "$(jqb '.items|length')" 2
check "limit: next_since continues" is "$(jqb .next_since)" "$(jqb '.items[1].seq')"

# long-poll: parked until a write commits
curl -sS -m 20 -H "Authorization: Bearer $TOKEN" "$PIM/v1/changes?since=$last&wait=15" -o "$TMP/poll" &
poll=$!
sleep 1
check "long-poll still waiting before the write" kill -0 $poll
reqj PUT "$PIM/v1/products/WAKE" '{"sku":"WAKE","family":"home","values":{}}'
start=$SECONDS; wait $poll; rc=$?
check "long-poll answered" is "$rc" 0
check "long-poll woke on the write (well before its 15 s)" test $((SECONDS - start)) -lt 8
check "long-poll returns the new change" is "$(jq -r '.items[0].sku' "$TMP/poll")" WAKE
req GET "$PIM/v1/changes?since=999999&wait=1"; check "long-poll timeout: empty answer" is "$(jqb '.items|length')" 0
req GET "$PIM/v1/changes?wait=900"; check "wait out of range: 400" code_is 400
