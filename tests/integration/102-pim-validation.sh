#!/usr/bin/env bash
# pimd product writes: PUT/GET/PATCH/DELETE, If-Match, and every validation
# rule with a bad document: 422 problem+json naming each problem by JSON
# pointer, nothing stored, the version left as it was.
source "$(dirname "$0")/lib.sh"

start_pimd

# v SKU [jq-expression]: a valid home product, optionally edited by jq
v() {
	jq -cn --arg sku "$1" '{sku:$sku,family:"home",categories:["kitchen"],enabled:true,values:{
		name:[{locale:"en_US",channel:null,data:"Stoneware mug"},{locale:"fr_FR",channel:null,data:"Tasse en grès"}],
		description:[{locale:"en_US",channel:"print",data:"A mug."}],
		price:[{locale:null,channel:null,data:[{amount:"12.50",currency:"EUR"},{amount:"13.90",currency:"USD"}]}],
		gtin:[{locale:null,channel:null,data:"4006381333931"}]}} | '"${2:-.}"
}
reqj PUT "$PIM/v1/attributes/stock" '{"type":"number","validation":{"min":"0","max":"1000","decimals":0}}'
reqj PUT "$PIM/v1/attributes/code" '{"type":"text","validation":{"regex":"^[A-Z]{3}-[0-9]+$","max_length":10}}'
reqj PUT "$PIM/v1/families/home" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/families/home" | jq -c '.attributes += ["stock","code"]')"

reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1)"; check "PUT creates: 201" code_is 201
check "version 1" is "$(jqb .version)" 1
check "ETag is the version and a completeness digest" bash -c "[[ '$(header etag)' =~ ^\\\"1\\.[0-9a-f]{8}\\\"$ ]]"
etag1=$(header etag)
check "server adds created/updated" is "$(jqb '(.created|length>0) and (.updated|length>0)')" true
check "completeness per channel/locale" is "$(jqb '.completeness["web/en_US"].ratio')" 100
req GET "$PIM/v1/products/MUG-1"; check "GET: 200" code_is 200
check "GET returns the stored values" is "$(jqb '.values.price[0].data[0].amount')" 12.50
req GET "$PIM/v1/products/MUG-1" -H "If-None-Match: $etag1"; check "GET with current ETag: 304" code_is 304
reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1)"; check "same document again: 200" code_is 200
check "unchanged document keeps its version" is "$(jqb .version)" 1
reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1 '.values.name[0].data="Big stoneware mug"')"
check "replace: 200" code_is 200
check "replace bumps the version" is "$(jqb .version)" 2

# If-Match
reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1 '.enabled=false')" -H 'If-Match: "1"'
check "stale If-Match on PUT: 412" code_is 412
check "412 is problem+json" is "$(header content-type)" application/problem+json
reqj PATCH "$PIM/v1/products/MUG-1" '{"enabled":false}' -H 'If-Match: "1"'; check "stale If-Match on PATCH: 412" code_is 412
req GET "$PIM/v1/products/MUG-1"; check "412 changed nothing" is "$(jqb '[.version,.enabled]|map(tostring)|join(",")')" 2,true
reqj PATCH "$PIM/v1/products/MUG-1" '{"values":{"description":null}}' -H 'If-Match: "2"' -H 'Content-Type: application/merge-patch+json'
check "PATCH with current If-Match: 200" code_is 200
check "merge patch null removes the value" is "$(jqb '.values|has("description")')" false
check "PATCH keeps other values" is "$(jqb '.values.name|length')" 2
req GET "$PIM/v1/products/MUG-1"; etag3=$(header etag)
reqj PATCH "$PIM/v1/products/MUG-1" '{"enabled":true}' -H "If-Match: W/${etag3}"
check "weak If-Match never matches: 412" code_is 412
reqj PATCH "$PIM/v1/products/MUG-1" '{"enabled":true}' -H "If-Match: \"7\", $etag3"
check "If-Match list with the GET's ETag: 200" code_is 200
reqj PATCH "$PIM/v1/products/MUG-1" '{"enabled":true}' -H "If-Match: \"$(jqb .version)\""
check "If-Match with the bare version: 200" code_is 200
reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1)" -H 'If-None-Match: *'
check "If-None-Match: * on an existing product: 412" code_is 412
reqj PUT "$PIM/v1/products/MUG-NEW" "$(v MUG-NEW 'del(.values.gtin)')" -H 'If-None-Match: *'
check "If-None-Match: * creates a new one: 201" code_is 201
# completeness changes without a new version: the ETag must change with it
req GET "$PIM/v1/products/MUG-1"; before=$(header etag); ver=$(jqb .version)
reqj PUT "$PIM/v1/families/home" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/families/home" | jq -c '.requirements.web += ["stock"]')"
check "a requirement added" code_is 200
req GET "$PIM/v1/products/MUG-1" -H "If-None-Match: $before"
check "completeness changed: 200, not 304" code_is 200
check "same version" is "$(jqb .version)" "$ver"
check "new ETag" bash -c "[ '$(header etag)' != '$before' ]"
reqj PUT "$PIM/v1/families/home" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/families/home" | jq -c '.requirements.web -= ["stock"]')"
# a NUL cannot cut a sku short
reqj PUT "$PIM/v1/products/MUG-1%00X" "$(v MUG-1)"; check "%00 in the path: 400" code_is 400
req GET "$PIM/v1/products/MUG-1%00X"; check "GET with %00: 400" code_is 400
req GET "$PIM/v1/products/MUG%FF1"; check "path not UTF-8: 400" code_is 400
reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1 | jq -c '.values.name[0].data="a\u0000b"')"
check "\\u0000 in a document: 400" code_is 400
check "400 says where" bash -c "jq -r .detail '$TMP/body' | grep -q 'byte.*u0000'"
reqj PATCH "$PIM/v1/products/NOPE" '{"enabled":false}'; check "PATCH of a missing product: 404" code_is 404

# bad SKU CODE JQ DESCRIPTION: one rule, one bad document
bad() {
	local sku=$1 code=$2 edit=$3 what=$4 r
	reqj PUT "$PIM/v1/products/$sku" "$(v "$sku" "$edit")"
	check "$what: 422" code_is 422
	r=$(jq -r --arg c "$code" '"\([.errors[].code]|index($c) != null) \([.errors[].path|startswith("/")]|all)"' "$TMP/body")
	check "$what: code $code" is "${r% *}" true
	check "$what: pointer given" is "${r#* }" true
}
bad B1 wrong_type '.values.name[0].data=12' "name as a number"
bad B2 unknown_attribute '.values.nosuch=[{locale:null,channel:null,data:"x"}]' "unknown attribute"
bad B3 unknown_locale '.values.name[0].locale="xx_XX"' "unknown locale"
bad B4 not_localizable '.values.gtin[0].locale="en_US"' "locale on an unlocalizable attribute"
bad B5 locale_required '.values.name[0].locale=null' "no locale on a localizable attribute"
bad B6 unknown_channel '.values.description=[{locale:"en_US",channel:"tv",data:"x"}]' "unknown channel"
bad B7 not_scopable '.values.price[0].channel="web"' "channel on an unscopable attribute"
bad B8 not_a_decimal '.values.price[0].data[0].amount=12.5' "price as a JSON number"
bad B9 not_a_decimal '.values.price[0].data[0].amount="12,50"' "price with a decimal comma"
bad B10 too_many_decimals '.values.price[0].data[0].amount="12.505"' "three decimals"
bad B11 below_min '.values.price[0].data[0].amount="-1.00"' "negative price"
bad B12 above_max '.values.stock=[{locale:null,channel:null,data:"1001"}]' "stock over max"
bad B13 too_long '.values.name[0].data=("x"*256)' "name over 255 characters"
bad B14 pattern_mismatch '.values.code=[{locale:null,channel:null,data:"abc-1"}]' "regex mismatch"
bad B15 bad_gtin '.values.gtin[0].data="4006381333932"' "GTIN check digit"
bad B16 unknown_option '.values.gender=[{locale:null,channel:null,data:"robot"}]' "unknown select option"
bad B17 not_unique '.' "GTIN already used by MUG-1"
bad B18 unknown_family '.family="spaceships"' "unknown family"
bad B19 unknown_parent '.parent="GHOST"' "unknown parent"
bad B20 unknown_product '.associations={cross_sell:{products:["GHOST"]}}' "association to a missing product"
bad B21 unknown_product '.values.related=[{locale:null,channel:null,data:"GHOST"}]' "reference to a missing product"
bad B22 unknown_category '.categories=["nowhere"]' "unknown category"
bad B23 unknown_currency '.values.price[0].data[0].currency="XXX"' "unknown currency"
bad B24 not_a_date '.values.release_date=[{locale:null,channel:null,data:"2026-02-30"}]' "impossible date"
bad B25 unknown_unit '.values.weight=[{locale:null,channel:null,data:{amount:"1",unit:"stone"}}]' "unknown unit"
bad B26 unknown_association_type '.associations={bundle:{products:["MUG-1"]}}' "unknown association type"
bad B27 duplicate_value '.values.name[1].locale="en_US"' "two values for one locale"
bad B28 bad_asset_id '.values.images=[{locale:null,channel:null,data:["not-an-asset-id"]}]' "an asset value that is no damd id"
bad B29 bad_asset_id '.values.images=[{locale:null,channel:null,data:["sha256:0000"]}]' "an asset id cut short"
bad B28 unknown_field '.colour="red"' "unknown top-level field"
bad B29 sku_mismatch '.sku="OTHER"' "sku differs from the path"
bad B30 not_in_family '.values.stock=[{locale:null,channel:null,data:"1"}]|.family="default"' "attribute outside the family"
bad B32 unknown_attribute '.values[("€"*90)]=[{locale:null,channel:null,data:"x"}]' "long multibyte attribute name (message cut mid-character)"
bad B31 no_quantities '.associations={cross_sell:{products:["MUG-1"],quantities:{"MUG-1":2}}}' "quantities on a type without them"

# every problem at once
reqj PUT "$PIM/v1/products/MANY" "$(v MANY '.values.price[0].data[0].amount=1.5|.values.name[0].locale="xx_XX"|.values.gtin[0].data="123"|.categories=["nowhere"]')"
check "several problems: 422" code_is 422
check "several problems: all four listed" is "$(jqb '[.errors[].path]|sort|join(" ")')" "/categories/0 /values/gtin/0/data /values/name/0/locale /values/price/0/data/0/amount"
req GET "$PIM/v1/products/MANY"; check "rejected product not stored" code_is 404

# a rejected write leaves the stored version alone
req GET "$PIM/v1/products/MUG-1"; before=$(jqb .version)
reqj PUT "$PIM/v1/products/MUG-1" "$(v MUG-1 '.values.gtin[0].data="1"')"; check "bad replace: 422" code_is 422
req GET "$PIM/v1/products/MUG-1"; check "version unchanged after a 422" is "$(jqb .version)" "$before"
check "values unchanged after a 422" is "$(jqb '.values.gtin[0].data')" 4006381333931

# pack associations with quantities
reqj PUT "$PIM/v1/products/MUG-2" "$(v MUG-2 '.values.gtin[0].data="5012345678900"')"; check "second mug" code_is 201
reqj PUT "$PIM/v1/products/MUG-SET" "$(v MUG-SET 'del(.values.gtin)|.associations={pack:{products:["MUG-1","MUG-2"],quantities:{"MUG-1":2,"MUG-2":2}},cross_sell:{products:["MUG-1"]}}')"
check "pack with quantities: 201" code_is 201
check "quantities stored" is "$(jqb '.associations.pack.quantities["MUG-1"]')" 2

# a new sku in Unicode NFC only: 'Café' with a combining accent (NFD) looks
# the same as the precomposed one, but would be another product
nfd=$'Cafe\xcc\x81-MUG' nfc=$'Caf\xc3\xa9-MUG'
nfd_path=Cafe%CC%81-MUG nfc_path=Caf%C3%A9-MUG
reqj PUT "$PIM/v1/products/$nfd_path" "$(v "$nfd" 'del(.values.gtin)')"
check "a new sku in NFD: 422" code_is 422
check "not_nfc at /sku, naming the NFC form" is "$(jqb --arg n "$nfc" '.errors[]|select(.path=="/sku" and .code=="not_nfc")|.message|contains($n)')" true
req GET "$PIM/v1/products/$nfd_path"; check "nothing was stored" code_is 404
reqj PUT "$PIM/v1/products/$nfc_path" "$(v "$nfc" 'del(.values.gtin)')"; check "the same sku in NFC: 201" code_is 201
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary "$(v "$nfd" 'del(.values.gtin)')"
check "a batch line with the NFD sku fails with not_nfc" is "$(jqb -s '.[0].errors[0].code')" not_nfc
# a path that spells the stored sku in NFD names that product
req GET "$PIM/v1/products/$nfd_path"; check "GET by the NFD spelling: 200" code_is 200
check "GET by the NFD spelling: the NFC product" is "$(jqb .sku)" "$nfc"
reqj PATCH "$PIM/v1/products/$nfd_path" '{"enabled":false}'; check "PATCH by the NFD spelling: 200" code_is 200
req GET "$PIM/v1/products/$nfc_path"; check "the PATCH reached the NFC product" is "$(jqb .enabled)" false
req GET "$PIM/v1/products/$nfd_path/history"; check "history by the NFD spelling: both versions" is "$(jqb '[.items[].version]|join(",")')" "1,2"
reqj POST "$PIM/v1/products/$nfd_path/revert" '{"version":1}'; check "revert by the NFD spelling: 200" code_is 200
check "the revert made version 3, enabled again" is "$(jqb '"\(.version) \(.enabled)"')" "3 true"
req GET "$PIM/v1/channels/web/products/$nfc_path"; nfc_status=$CODE nfc_body=$(body)
check "the NFC product is published to web" is "$nfc_status" 200
req GET "$PIM/v1/channels/web/products/$nfd_path"
check "projection by the NFD spelling: as by the NFC one" is "$CODE $(body)" "$nfc_status $nfc_body"
req DELETE "$PIM/v1/products/$nfd_path"; check "DELETE by the NFD spelling: 204" code_is 204
req GET "$PIM/v1/products/$nfc_path"; check "the NFC product is deleted" code_is 404

# malformed bodies and deletes
reqj PUT "$PIM/v1/products/X" '{"sku":'; check "broken JSON: 400" code_is 400
reqj PUT "$PIM/v1/products/X" '[1,2]'; check "not an object: 422" code_is 422
req DELETE "$PIM/v1/products/MUG-2" -H 'If-Match: "9"'; check "DELETE with stale If-Match: 412" code_is 412
req DELETE "$PIM/v1/products/MUG-2"; check "DELETE: 204" code_is 204
req GET "$PIM/v1/products/MUG-2"; check "deleted product: 404" code_is 404
reqj PUT "$PIM/v1/products/MUG-3" "$(v MUG-3 '.values.gtin[0].data="5012345678900"')"
check "a deleted product's unique GTIN is free again" code_is 201
req DELETE "$PIM/v1/products/GHOST"; check "DELETE of a missing product: 404" code_is 404

# roles
reqj POST "$PIM/v1/tokens" '{"name":"ro","role":"reader"}'; reader=$(jqb .token)
AS_TOKEN=$reader reqj PUT "$PIM/v1/products/R-1" "$(v R-1)"; check "reader cannot write products: 403" code_is 403
AS_TOKEN=$reader req GET "$PIM/v1/products/MUG-1"; check "reader reads products" code_is 200
