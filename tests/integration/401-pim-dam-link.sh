#!/usr/bin/env bash
# pimd following damd: uploads linked to products by filename (SKU_N.jpg,
# SKU-word.png) and by the SKUs in their metadata, projections with the
# asset's size and alt text, deleted and expired assets no longer offered,
# the feed position kept across a restart, and pimd serving without damd.
source "$(dirname "$0")/lib.sh"
start_hub

name() { printf '[{"locale":"en_US","channel":null,"data":"%s"},{"locale":"fr_FR","channel":null,"data":"%s FR"}]' "$1" "$1"; }
price='[{"locale":null,"channel":null,"data":[{"amount":"19.90","currency":"EUR"},{"amount":"21.00","currency":"USD"}]}]'
product() {
	reqj PUT "$PIM/v1/products/$1" "{\"sku\":\"$1\",\"family\":\"${2:-default}\",\"values\":{\"name\":$(name "$1"),\"price\":$price}}"
}
up() { req POST "$DAM/v1/assets" -H "X-Filename: $2" --data-binary @"$1"; }
pim_get() { curl -sS -m 10 -H "Authorization: Bearer $TOKEN" "$PIM$1"; }
images_of() { pim_get "/v1/products/$1" | jq -r '[.values.images[]?.data[]]|join(",")'; }
version_of() { pim_get "/v1/products/$1" | jq -r .version; }
# proj SKU [LOCALE [CHANNEL]]: the projection's body
proj() { pim_get "/v1/channels/${3:-web}/products/$1?locale=${2:-en_US}"; }
has_images() { [ "$(images_of "$1")" = "$2" ]; }
proj_is() { [ "$(proj "$1" "$2" | jq -r "$3")" = "$4" ]; }
metrics_has() { pim_get /metrics | grep -qE "$1"; }
etag_of() { curl -sS -m 10 -o /dev/null -D - "$PIM/v1/channels/web/products/$1?locale=${2:-en_US}" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }

for s in TS-001 TS-001-RED CAP-010; do product $s; check "product $s" code_is 201; done
img=$DATA/images

# filename convention: SKU_1.jpg
up "$img/jpeg-progressive_telegram.jpg" TS-001_1.jpg; check "upload TS-001_1.jpg" code_is 201
a1=$(jqb .id)
check "linked to TS-001 by its filename" eventually has_images TS-001 "$a1"
check "projection has the image's width and height" eventually proj_is TS-001 en_US '.images[0]|"\(.asset) \(.width) \(.height) \(.alt)"' "$a1 1280 1022 null"
u0=$(proj TS-001 | jq -r '.images[0].url')
check "url from the channel's preset, with the preset's tag" grep -qE "^$DAM/v1/renditions/$a1/web-large\?v=[0-9a-f]{8}\$" <<<"$u0"
req GET "$PIM/v1/products/TS-001/history"
check "the link is a version made by damd" is "$(jqb '.items[-1]|"\(.version) \(.by) \(.changes[0].path)"')" "2 damd /values/images"
req GET "$PIM/v1/changes?since=0&limit=1000"
check "and a change-feed entry" is "$(jqb '[.items[]|select(.sku=="TS-001" and .version==2)]|length')" 1

# a SKU with '-' in it, an EXIF-rotated master: the upright size
up "$img/exif-orientation/Landscape_6.jpg" TS-001-RED_1.jpg; r1=$(jqb .id)
check "the longest SKU the name gives wins" eventually has_images TS-001-RED "$r1"
check "not linked to the shorter SKU" is "$(images_of TS-001)" "$a1"
check "orientation 6: upright width and height" eventually proj_is TS-001-RED en_US '.images[0]|"\(.width)x\(.height)"' 1800x1200

# order by _N, '-word' at the end, no duplicates
up "$img/png-rgba.png" TS-001_3.png; a3=$(jqb .id)
check "_3 linked" eventually has_images TS-001 "$a1,$a3"
up "$img/webp-lossy.webp" TS-001_2.webp; a2=$(jqb .id)
check "_2 goes between _1 and _3" eventually has_images TS-001 "$a1,$a2,$a3"
up "$img/gif-cogs.gif" TS-001-front.gif; af=$(jqb .id)
check "-front goes last" eventually has_images TS-001 "$a1,$a2,$a3,$af"
v=$(version_of TS-001)
up "$img/jpeg-progressive_telegram.jpg" TS-001_1-copy.jpg; check "same bytes again: 200" code_is 200
up "$img/png-palette_indexed.png" CAP-010_1.png; c1=$(jqb .id)
check "a later event is applied" eventually has_images CAP-010 "$c1"
check "the same asset is not added twice" is "$(images_of TS-001)" "$a1,$a2,$a3,$af"
check "and makes no new version" is "$(version_of TS-001)" "$v"

# alt text: the projection's locale, else the channel's first
etag=$(etag_of TS-001 fr_FR)
reqj PATCH "$DAM/v1/assets/$a1/meta" '{"alt":{"en_US":"Red tee, front"}}'; check "alt patched in damd" code_is 200
check "alt in the projection" eventually proj_is TS-001 en_US '.images[0].alt' "Red tee, front"
check "fr_FR falls back to en_US" proj_is TS-001 fr_FR '.images[0].alt' "Red tee, front"
check "the ETag changed" bash -c "[ '$(etag_of TS-001 fr_FR)' != '$etag' ]"
reqj PATCH "$DAM/v1/assets/$a1/meta" '{"alt":{"fr_FR":"T-shirt rouge"}}'
check "fr_FR alt once there is one" eventually proj_is TS-001 fr_FR '.images[0].alt' "T-shirt rouge"
check "en_US keeps its own" proj_is TS-001 en_US '.images[0].alt' "Red tee, front"
check "alt is not a product change" is "$(version_of TS-001)" "$v"

# damd serves renditions as immutable: a moved focal point must give new URLs
reqj PATCH "$DAM/v1/assets/$a1/meta" '{"focal_point":{"x":0.2,"y":0.3}}'; check "focal point set" code_is 200
tagged() { proj TS-001 | jq -r '.images[0].url' | grep -qE "^$DAM/v1/renditions/$a1/web-large\?v=[0-9a-f]{8}\$"; }
moved0() { [ "$(proj TS-001 | jq -r '.images[0].url')" != "$u0" ]; }
check "the url's tag follows the focal point" eventually moved0
check "still 8 hex digits" tagged
u1=$(proj TS-001 | jq -r '.images[0].url')
check "every role's url carries it" is "$(proj TS-001 | jq -r '[.images[0].renditions[]|test("\\?v=")]|all')" true
reqj PATCH "$DAM/v1/assets/$a1/meta" '{"focal_point":{"x":0.8,"y":0.3}}'
moved() { [ "$(proj TS-001 | jq -r '.images[0].url')" != "$u1" ]; }
check "another focal point: another url" eventually moved
req GET "$(proj TS-001 | jq -r '.images[0].url')"; check "damd serves the tagged url" code_is 200
check "as an image" is "$(header content-type | cut -d/ -f1)" image
reqj PATCH "$DAM/v1/assets/$a1/meta" '{"focal_point":null}'
check "no focal point: the preset's url again" eventually proj_is TS-001 en_US '.images[0].url' "$u0"

# linking by the SKUs in the metadata, and unlinking when they go
up "$img/webp-lossless.webp" lifestyle-shot.webp; m=$(jqb .id)
reqj PATCH "$DAM/v1/assets/$m/meta" '{"skus":["CAP-010","NO-SUCH-SKU"]}'
check "linked by its metadata SKUs" eventually has_images CAP-010 "$c1,$m"
reqj PATCH "$DAM/v1/assets/$m/meta" '{"skus":[]}'
check "unlinked when the SKU is taken off" eventually has_images CAP-010 "$c1"
check "unlinked by damd" is "$(pim_get /v1/products/CAP-010/history | jq -r '.items[-1].by')" damd

# a family without an asset collection is left alone
reqj PUT "$PIM/v1/families/plain" '{"code":"plain","attributes":["sku","name","price"],"requirements":{}}'
check "family without images" code_is 201
product PLAIN-1 plain
up "$img/png-palette-trns_tbbn3p08.png" PLAIN-1_1.png
up "$img/png-interlaced-16bit-rgba_basi6a16.png" CAP-010_2.png; c2=$(jqb .id)
check "(sync point)" eventually has_images CAP-010 "$c1,$c2"
check "no write to a product whose family has no asset collection" is "$(version_of PLAIN-1)" 1

# delete: gone from the product and the projection
req DELETE "$DAM/v1/assets/$a3"; check "delete in damd" code_is 204
check "deleted asset removed from the product" eventually has_images TS-001 "$a1,$a2,$af"
check "and from the projection" proj_is TS-001 en_US '[.images[].asset]|join(",")' "$a1,$a2,$af"

# rights expired: still in the product, no longer offered to channels
reqj PATCH "$DAM/v1/assets/$a2/meta" '{"rights":{"expires":"2020-01-01"}}'; check "expiry in the past" code_is 200
check "expired asset not offered" eventually proj_is TS-001 en_US '[.images[].asset]|join(",")' "$a1,$af"
check "the canonical product keeps it" is "$(images_of TS-001)" "$a1,$a2,$af"
req GET "$PIM/v1/channels/marketplace/feed.xml"; check "Merchant feed: 200" code_is 200
check "the feed offers the live image" grep -q "$a1" "$TMP/body"
check "but not the expired one" bash -c "! grep -q '$a2' '$TMP/body'"
reqj PATCH "$DAM/v1/assets/$a2/meta" '{"rights":{"expires":"2999-12-31"}}'
check "a later expiry offers it again" eventually proj_is TS-001 en_US '[.images[].asset]|join(",")' "$a1,$a2,$af"

# an image is what makes an apparel product complete for web
reqj PUT "$PIM/v1/products/JACKET-9" "{\"sku\":\"JACKET-9\",\"family\":\"apparel\",\"values\":{\"name\":$(name JACKET-9),\"price\":$price}}"
check "apparel product" code_is 201
req GET "$PIM/v1/channels/web/products/JACKET-9?locale=en_US"; check "not on web without an image" code_is 404
up "$img/exif-orientation/Landscape_1.jpg" JACKET-9_1.jpg; j1=$(jqb .id)
check "published to web once its image is linked" eventually proj_is JACKET-9 en_US '.images[0].asset' "$j1"

# a variant that may not set images: its parent gets them
reqj PUT "$PIM/v1/families/shoe" '{"code":"shoe","attributes":["sku","name","price","size","images"],"label_attribute":"name","image_attribute":"images","requirements":{},"variant_axes":["size"],"variant_attributes":["sku","size"]}'
check "family whose variants do not set images" code_is 201
product SHOE-1 shoe
reqj PUT "$PIM/v1/products/SHOE-1-42" '{"sku":"SHOE-1-42","family":"shoe","parent":"SHOE-1","values":{"size":[{"locale":null,"channel":null,"data":"42"}]}}'
check "variant" code_is 201
up "$img/exif-orientation/Landscape_2.jpg" SHOE-1-42_1.jpg; s1=$(jqb .id)
check "the variant's image goes to its parent" eventually has_images SHOE-1 "$s1"
check "the variant stays as it was" is "$(version_of SHOE-1-42)" 1

# an asset's edit reaches the cached projections of the products showing
# it, a variant's inherited image too, and no other product's
hits() { pim_get /metrics | awk '$1 == "pimd_projection_cache_hits_total" { print $2 }'; }
check "the variant shows its parent's image" eventually proj_is SHOE-1-42 en_US '.images[0].asset' "$s1"
proj SHOE-1 en_US >/dev/null; proj CAP-010 en_US >/dev/null
h0=$(hits); proj CAP-010 en_US >/dev/null
check "(CAP-010's projection is cached)" is "$(hits)" $((h0 + 1))
reqj PATCH "$DAM/v1/assets/$s1/meta" '{"alt":{"en_US":"Trail shoe"}}'
check "the edit reaches the variant's cached projection" eventually proj_is SHOE-1-42 en_US '.images[0].alt' "Trail shoe"
check "and its parent's" proj_is SHOE-1 en_US '.images[0].alt' "Trail shoe"
h0=$(hits); proj CAP-010 en_US >/dev/null
check "a product not showing the asset stays cached" is "$(hits)" $((h0 + 1))

# images uploaded before their products: linked when the products appear
up "$img/exif-orientation/Landscape_3.jpg" LATE-1_2.jpg; l2=$(jqb .id)
up "$img/exif-orientation/Landscape_4.jpg" LATE-1_1.jpg; l1=$(jqb .id)
up "$img/exif-orientation/Landscape_5.jpg" shot.jpg; l3=$(jqb .id)
reqj PATCH "$DAM/v1/assets/$l3/meta" '{"skus":["LATE-2"]}'
check "(the follower has seen them)" eventually metrics_has "^pimd_damd_feed_seq $(curl -sS -H "Authorization: Bearer $TOKEN" "$DAM/v1/changes?since=0&limit=1000" | jq -r .next_since)\$"
product LATE-1; check "product created after its images" code_is 201
check "its images linked, in order" eventually has_images LATE-1 "$l1,$l2"
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary "{\"sku\":\"LATE-2\",\"family\":\"default\",\"values\":{\"name\":$(name LATE-2)}}"
check "batch create" code_is 200
check "an image naming it by metadata linked too" eventually has_images LATE-2 "$l3"

# restart: the follower resumes from its saved position, nothing applied twice
seq=$(pim_get "/v1/changes?since=0&limit=1000" | jq -r .next_since); v=$(version_of TS-001)
t0=$(date +%s%N); kill -TERM "$PIM_PID"; wait "$PIM_PID" 2>/dev/null
check "SIGTERM stops pimd promptly while it follows damd" bash -c "[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]"
start_pimd --damd-token "$TOKEN"
check "the follower starts from its saved position" eventually grep -qE 'damd follower started .*since=[1-9]' "$TMP/pimd.log"
up "$img/webp-lossy-alpha.webp" CAP-010_3.webp; c3=$(jqb .id)
check "new events after the restart are linked" eventually has_images CAP-010 "$c1,$c2,$c3"
req GET "$PIM/v1/changes?since=$seq&limit=1000"
check "no change replayed after the restart" is "$(jqb '[.items[].sku]|join(",")')" CAP-010
check "TS-001 still at its version" is "$(version_of TS-001)" "$v"

check "/metrics: the damd feed position" metrics_has '^pimd_damd_feed_seq [1-9]'
check "/metrics: damd is up" metrics_has '^pimd_damd_feed_up 1'

# damd down: pimd serves on, quietly, and catches up when damd is back
dam_port=${DAM##*:}
kill -TERM "$DAM_PID"; wait "$DAM_PID" 2>/dev/null
check "/metrics: damd is down" eventually metrics_has '^pimd_damd_feed_up 0'
REQ_TIMEOUT=5 req GET "$PIM/v1/channels/web/products/TS-001?locale=en_US"
check "projection served without damd" code_is 200
check "with what pimd knows of the assets" is "$(jqb '.images[0].alt')" "Red tee, front"
REQ_TIMEOUT=5 product NEW-1; check "writes without damd" code_is 201
"$BIN/damd" --listen 127.0.0.1:$dam_port --data "$DAM_DATA" >>"$TMP/damd.log" 2>&1 &
DAM_PID=$!; PIDS+=($DAM_PID)
wait_http "$DAM/healthz" || die "damd did not restart"
up "$img/png-16bit_Flag_of_the_Netherlands.png" NEW-1_1.png; n1=$(jqb .id)
WAIT_SECS=45 check "linked once damd is back" eventually has_images NEW-1 "$n1"
check "damd's absence logged at most twice" bash -c "[ \$(grep -c 'damd feed unavailable' '$TMP/pimd.log') -le 2 ]"

# damd's store replaced (another data directory on the same address): its
# sequence starts over under another feed id; pimd forgets the old store's
# asset records and reads the new feed from 0, so its first events count
kill -TERM "$DAM_PID"; wait "$DAM_PID" 2>/dev/null
DAM_PORT=$dam_port DAM_DATA=$TMP/dam-new; start_damd; unset DAM_PORT
product RESET-1; check "product for the new store" code_is 201
up "$img/exif-orientation/Landscape_6.jpg" RESET-1_1.jpg; r1=$(jqb .id)
WAIT_SECS=45 check "the new store's first event is linked" eventually has_images RESET-1 "$r1"
check "the replacement is logged" grep -q 'damd store replaced' "$TMP/pimd.log"
check "/metrics: the position is the new feed's" metrics_has '^pimd_damd_feed_seq 1$'
check "the old store's images are no longer described" eventually proj_is TS-001 en_US '.images[0].alt' null
