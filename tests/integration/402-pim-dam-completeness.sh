#!/usr/bin/env bash
# Completeness counts only the images channels may show: an image deleted
# in damd or whose rights expired stops filling a required image attribute
# (the product is unpublished from that channel, without a new version),
# and fills it again once uploaded again or its rights extended; at a new
# UTC day images whose rights ended the day before stop counting even
# before damd says so. Images pimd knows nothing of, those of a damd store
# since replaced included, still count.
source "$(dirname "$0")/lib.sh"
start_hub

name() { printf '[{"locale":"en_US","channel":null,"data":"%s"},{"locale":"fr_FR","channel":null,"data":"%s FR"}]' "$1" "$1"; }
price='[{"locale":null,"channel":null,"data":[{"amount":"9.90","currency":"EUR"}]}]'
images() { local ids=$1; printf '[{"locale":null,"channel":null,"data":[%s]}]' "$(echo "$ids" | sed 's/[^,]\+/"&"/g')"; }
# product SKU FAMILY IDS (comma-separated)
product() {
	reqj PUT "$PIM/v1/products/$1" "{\"sku\":\"$1\",\"family\":\"$2\",\"values\":{\"name\":$(name "$1"),\"price\":$price,\"images\":$(images "$3")}}"
}
up() { req POST "$DAM/v1/assets" -H "X-Filename: $2" --data-binary @"$1"; }
pim_get() { curl -sS -m 10 -H "Authorization: Bearer $TOKEN" "$PIM$1"; }
# missing SKU [CHANNEL/LOCALE]: the attributes missing there, comma-separated
missing() { pim_get "/v1/products/$1" | jq -r ".completeness[\"${2:-web/en_US}\"].missing|join(\",\")"; }
missing_is() { [ "$(missing "$1" "${3:-web/en_US}")" = "$2" ]; }
proj_code() { curl -sS -m 10 -o /dev/null -w '%{http_code}' "$PIM/v1/channels/web/products/$1?locale=en_US"; }
proj_code_is() { [ "$(proj_code "$1")" = "$2" ]; }
complete_skus() { pim_get "/v1/products?complete=web/en_US&family=poster&limit=100" | jq -r '[.items[].sku]|join(",")'; }
version_of() { pim_get "/v1/products/$1" | jq -r .version; }
history_len() { pim_get "/v1/products/$1/history?limit=1000" | jq -r '.items|length'; }
metrics_has() { pim_get /metrics | grep -qE "$1"; }
# synced: pimd has applied every event damd has
synced() { metrics_has "^pimd_damd_feed_seq $(curl -sS -H "Authorization: Bearer $TOKEN" "$DAM/v1/changes?since=0&limit=1000" | jq -r .next_since)\$"; }

reqj PUT "$PIM/v1/families/poster" '{"code":"poster","attributes":["sku","name","price","images"],"label_attribute":"name","image_attribute":"images","requirements":{"web":["name","price","images"],"print":["name","price"]}}'
check "family that requires images on web" code_is 201
img=$DATA/images
# filenames that name no product: the images are placed by hand, so the
# follower's unlinking of deleted images does not touch them
up "$img/jpeg-progressive_telegram.jpg" hero.jpg; h=$(jqb .id)
up "$img/png-rgba.png" side.png; s=$(jqb .id)
unseen=sha256:$(printf '0%.0s' $(seq 64))
check "(the follower has seen the uploads)" eventually synced

product P-1 poster "$h"; check "product with one image" code_is 201
product P-2 poster "$h,$s"; check "product with two images" code_is 201
product P-3 poster "$unseen"; check "product with an image pimd never saw" code_is 201
check "P-1 complete on web" missing_is P-1 ""
check "published on web" proj_code_is P-1 200
check "(cached)" proj_code_is P-1 200
check "listed as complete" is "$(complete_skus)" "P-1,P-2,P-3"
v1=$(version_of P-1); h1=$(history_len P-1)
seq=$(pim_get "/v1/changes?since=0&limit=1000" | jq -r .next_since)

# deleted in damd: no longer fills the image attribute
req DELETE "$DAM/v1/assets/$h"; check "delete the image in damd" code_is 204
check "P-1 misses its image on web" eventually missing_is P-1 images
check "and is unpublished there" proj_code_is P-1 404
check "fr_FR too" missing_is P-1 images web/fr_FR
check "print does not require images" missing_is P-1 "" print/en_US
check "no longer listed as complete" is "$(complete_skus)" "P-2,P-3"
check "a product with another live image stays complete" missing_is P-2 ""
check "an image pimd never saw still counts" missing_is P-3 ""
check "the canonical product keeps the id" is "$(pim_get /v1/products/P-1 | jq -r '.values.images[0].data|join(",")')" "$h"
check "no new version" is "$(version_of P-1)" "$v1"
check "no history entry" is "$(history_len P-1)" "$h1"
req GET "$PIM/v1/changes?since=$seq&limit=1000"
check "a change tells caches" is "$(jqb '[.items[]|select(.sku=="P-1")|"\(.type) \(.via) \(.version)"]|join(",")')" "product.updated asset $v1"
check "none for a product whose completeness did not change" is "$(jqb '[.items[]|select(.sku=="P-2")]|length')" 0

# writes made while it is deleted count it as missing too
product P-4 poster "$h"; check "PUT with the deleted image" code_is 201
check "P-4 misses its image" missing_is P-4 images
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary "{\"sku\":\"P-5\",\"family\":\"poster\",\"values\":{\"name\":$(name P-5),\"price\":$price,\"images\":$(images "$h")}}"
check "batch line with the deleted image" code_is 200
check "P-5 misses its image" missing_is P-5 images

# a parent's image that its variant inherits
reqj PUT "$PIM/v1/products/JK-1" "{\"sku\":\"JK-1\",\"family\":\"apparel\",\"values\":{\"name\":$(name JK-1),\"price\":$price,\"images\":$(images "$s")}}"
check "apparel parent with an image" code_is 201
reqj PUT "$PIM/v1/products/JK-1-RED" '{"sku":"JK-1-RED","family":"apparel","parent":"JK-1","values":{"color":[{"locale":null,"channel":null,"data":"red"}],"size":[{"locale":null,"channel":null,"data":"m"}]}}'
check "variant inheriting it" code_is 201
check "the variant is published" proj_code_is JK-1-RED 200

# uploaded again: fills again
up "$img/jpeg-progressive_telegram.jpg" hero.jpg
check "upload the same bytes again" bash -c "[ $CODE = 201 ] || [ $CODE = 200 ]"
check "P-1 complete again" eventually missing_is P-1 ""
check "published again" proj_code_is P-1 200
check "the writes made meanwhile complete too" bash -c "[ '$(missing P-4)$(missing P-5)' = '' ]"
check "listed as complete again" is "$(complete_skus)" "P-1,P-2,P-3,P-4,P-5"
check "still no new version" is "$(version_of P-1)" "$v1"

# rights expired, then extended
reqj PATCH "$DAM/v1/assets/$h/meta" '{"rights":{"expires":"2020-01-01"}}'; check "expiry in the past" code_is 200
check "an expired image no longer fills" eventually missing_is P-1 images
check "unpublished" proj_code_is P-1 404
check "the other product keeps its live image" missing_is P-2 ""
reqj PATCH "$DAM/v1/assets/$s/meta" '{"rights":{"expires":"2020-01-01"}}'
check "P-2's images all expired" eventually missing_is P-2 images
check "a variant loses the image it inherits" missing_is JK-1-RED images
check "and is unpublished" proj_code_is JK-1-RED 404
reqj PATCH "$DAM/v1/assets/$h/meta" '{"rights":{"expires":"2999-12-31"}}'; check "a later expiry" code_is 200
check "fills again" eventually missing_is P-1 ""
check "published again" proj_code_is P-1 200
reqj PATCH "$DAM/v1/assets/$s/meta" '{"rights":{"expires":"2999-12-31"}}'
check "the variant is published again" eventually proj_code_is JK-1-RED 200
check "(the follower has seen the edits)" eventually synced

# the day moves on while damd has said nothing: pimd's record says the
# rights end yesterday, and pimd last counted expiries yesterday
yesterday=$(date -u -d yesterday +%F)
kill -TERM "$PIM_PID"; wait "$PIM_PID" 2>/dev/null
rec=$(mdb_dump -p -s assets "$PIM_DATA" | awk -v id=" $h" 'found { print substr($0, 2); exit } $0 == id { found = 1 }')
check "(pimd's record of the image)" bash -c "echo '$rec' | jq -e .filenames >/dev/null"
printf '%s\n%s\n' "$h" "$(echo "$rec" | jq -c --arg d "$yesterday" '.expires = $d')" | mdb_load -T -s assets "$PIM_DATA"
printf 'damd_day\n%s\n' "$yesterday" | mdb_load -T -s meta "$PIM_DATA"
start_pimd --damd-token "$TOKEN"
check "at the new day the image no longer fills" eventually missing_is P-1 images
check "unpublished" proj_code_is P-1 404
check "the other image still fills" missing_is P-2 ""
check "pimd logged it" grep -q "damd rights ended day=$(date -u +%F) assets=1" "$TMP/pimd.log"

# damd's store replaced: pimd forgets its records of the old store's
# assets, so the images it had as deleted or expired are unknown and count
kill -TERM "$DAM_PID"; wait "$DAM_PID" 2>/dev/null
DAM_PORT=${DAM##*:} DAM_DATA=$TMP/dam-new; start_damd; unset DAM_PORT
WAIT_SECS=45 check "the old store's expired image counts again" eventually missing_is P-1 ""
check "published again" proj_code_is P-1 200
check "the replacement is logged" grep -q 'damd store replaced' "$TMP/pimd.log"
