#!/usr/bin/env bash
# pimd channel projections: values resolved per channel and locale with the
# documented fallbacks, the channel's currency, images as rendition URLs,
# categories of the channel's tree, strong ETags and 304s, unpublished
# products 404, and every channel from the same canonical record.
source "$(dirname "$0")/lib.sh"

DAM=http://127.0.0.1:9 # only used to build URLs
start_pimd
# the ?v= of a preset's URLs: its parameters (all but the description),
# keys sorted, compact, SHA-256, 8 hex digits
preset_tag() { jq -cS ".presets[\"$2\"]|del(.description)" "$1/renditions.json" | tr -d '\n' | sha256sum | cut -c1-8; }
H=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

reqj PUT "$PIM/v1/products/CAP-010" '{"sku":"CAP-010","family":"default","categories":["accessories"],"values":{"name":[{"locale":"en_US","channel":null,"data":"Canvas cap"}],"price":[{"locale":null,"channel":null,"data":[{"amount":"15.00","currency":"EUR"}]}]}}'
check "cap" code_is 201
doc='{"sku":"TEE-1","family":"default","categories":["men_tshirts","print_spring"],"enabled":true,"values":{
 "name":[{"locale":"en_US","channel":null,"data":"Organic tee"},{"locale":"fr_FR","channel":null,"data":"T-shirt bio"}],
 "description":[{"locale":"en_US","channel":null,"data":"Everyday tee."},{"locale":"en_US","channel":"print","data":"Printed catalog copy."}],
 "price":[{"locale":null,"channel":null,"data":[{"amount":"19.90","currency":"EUR"},{"amount":"21.00","currency":"USD"}]}],
 "color":[{"locale":null,"channel":null,"data":"red"}],
 "images":[{"locale":null,"channel":null,"data":["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","sha256:abcdefaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}]},
 "associations":{"cross_sell":{"products":["CAP-010"]}}}'
reqj PUT "$PIM/v1/products/TEE-1" "$doc"; check "tee" code_is 201

req GET "$PIM/v1/channels/web/products/TEE-1?locale=fr_FR"; check "web/fr_FR: 200" code_is 200
check "identity fields" is "$(jqb '[.sku,.channel,.locale,(.version|tostring)]|join(" ")')" "TEE-1 web fr_FR 1"
check "localized name" is "$(jqb .name)" "T-shirt bio"
check "description falls back to the channel's first locale" is "$(jqb .description)" "Everyday tee."
check "price in the channel's currency" is "$(jqb '.price|.amount+" "+.currency')" "19.90 EUR"
check "plain value" is "$(jqb .color)" red
check "image URL from the channel's main preset, tagged with its parameters" is "$(jqb '.images[0].url')" "$DAM/v1/renditions/$H/web-large?v=$(preset_tag "$ROOT/schemas" web-large)"
check "thumb rendition too" is "$(jqb '.images[0].renditions.thumb')" "$DAM/v1/renditions/$H/web-thumb?v=$(preset_tag "$ROOT/schemas" web-thumb)"
check "both images" is "$(jqb '.images|length')" 2
check "associations as skus" is "$(jqb '.associations.cross_sell|join(",")')" CAP-010
check "JSON content type" is "$(header content-type)" application/json
etag=$(header etag)
check "strong ETag" bash -c "[[ '$etag' =~ ^\\\"[0-9a-f]{16}\\\"$ ]]"
req GET "$PIM/v1/channels/web/products/TEE-1?locale=fr_FR" -H "If-None-Match: $etag"; check "If-None-Match: 304" code_is 304
check "304 carries the ETag" is "$(header etag)" "$etag"
req GET "$PIM/v1/channels/web/products/TEE-1?locale=fr_FR" -H 'If-None-Match: "0000000000000000"'; check "other ETag: 200" code_is 200
req HEAD "$PIM/v1/channels/web/products/TEE-1?locale=fr_FR" -I; check "HEAD: 200" code_is 200

req GET "$PIM/v1/channels/web/products/TEE-1"; check "no locale: the channel's first" is "$(jqb .locale)" en_US
req GET "$PIM/v1/channels/print/products/TEE-1?locale=en_US"; check "print: 200" code_is 200
check "scopable value: the channel's own first" is "$(jqb .description)" "Printed catalog copy."
check "print image preset" is "$(jqb '.images[0].url')" "$DAM/v1/renditions/$H/print?v=$(preset_tag "$ROOT/schemas" print)"
req GET "$PIM/v1/channels/marketplace/products/TEE-1?locale=en_US"
check "marketplace prices in its first currency, USD" is "$(jqb '.price|.amount+" "+.currency')" "21.00 USD"
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; web=$(jqb .name)
req GET "$PIM/v1/channels/app/products/TEE-1?locale=en_US"
check "every channel from one record: same name on app and web" is "$(jqb .name)" "$web"

# categories outside the channel's tree are left out
reqj PUT "$PIM/v1/channels/catalog" '{"locales":["en_US"],"currencies":["EUR"],"category_tree":"print_catalog"}'
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "web tree: master categories only" is "$(jqb '.categories|join(",")')" men_tshirts
req GET "$PIM/v1/channels/catalog/products/TEE-1?locale=en_US"; check "catalog tree: its own only" is "$(jqb '.categories|join(",")')" print_spring

# unknown things and unpublished products
req GET "$PIM/v1/channels/web/products/NOPE"; check "unknown product: 404" code_is 404
req GET "$PIM/v1/channels/tv/products/TEE-1"; check "unknown channel: 404" code_is 404
req GET "$PIM/v1/channels/print/products/TEE-1?locale=fr_FR"; check "locale outside the channel: 404" code_is 404
req GET "$PIM/v1/channels/web/products/TEE-1?locale=de_DE"; check "incomplete for de_DE (no name): 404" code_is 404
check "404 is problem+json" is "$(header content-type)" application/problem+json

# a write invalidates the cached projection at once
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; old=$(header etag)
reqj PATCH "$PIM/v1/products/TEE-1" '{"values":{"color":[{"locale":null,"channel":null,"data":"blue"}]}}'
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US" -H "If-None-Match: $old"; check "after a write: 200, not 304" code_is 200
check "new value served" is "$(jqb .color)" blue
check "new ETag" bash -c "[ '$(header etag)' != '$old' ]"
reqj PATCH "$PIM/v1/products/TEE-1" '{"enabled":false}'
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "disabled: 404" code_is 404
req GET "$PIM/v1/products/TEE-1"; check "still in the canonical API" code_is 200
reqj PATCH "$PIM/v1/products/TEE-1" '{"enabled":true}'
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "enabled again: 200" code_is 200
# deleting an associated product drops it from the projection
req DELETE "$PIM/v1/products/CAP-010"
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "deleted association dropped" is "$(jqb '.associations.cross_sell|length')" 0
# a schema change flushes projections
reqj PUT "$PIM/v1/channels/web" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/channels/web" | jq -c '.renditions.main="web-xl"')"
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "channel preset change reflected; a preset pimd's file lacks has no tag" is "$(jqb '.images[0].url')" "$DAM/v1/renditions/$H/web-xl"

# the read API is public; the channel listing serves projections
AS_TOKEN= req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "public without a token" code_is 200
AS_TOKEN= req GET "$PIM/v1/channels/web/products?locale=en_US"; check "channel listing: 200" code_is 200
check "listing has the published product as a projection" is "$(jqb '[.items[]|.sku+"/"+.channel]|join(",")')" TEE-1/web
AS_TOKEN= req GET "$PIM/v1/channels/app/products?locale=de_DE"
check "channel listing in a locale the channel lacks: 404, as one product" code_is 404
stop_all
start_pimd --private-reads
AS_TOKEN= req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "--private-reads: 401 without a token" code_is 401
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; check "--private-reads: 200 with one" code_is 200
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"
req GET "$PIM/metrics"
check "/metrics counts projection cache hits" bash -c "grep -qE '^pimd_projection_cache_hits_total [1-9]' '$TMP/body'"
check "/metrics shows the change sequence" bash -c "grep -qE '^pimd_change_seq [1-9]' '$TMP/body'"

# damd serves renditions as immutable: an edited preset must give new URLs,
# an edited description must not
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"; thumb=$(jqb .images[0].renditions.thumb)
req GET "$PIM/v1/channels/print/products/TEE-1?locale=en_US"; print=$(jqb .images[0].url)
stop_all
mkdir -p "$TMP/schemas"; cp -r "$ROOT/schemas/." "$TMP/schemas/"
jq '.presets["web-thumb"].width=240 | .presets.print.description="Catalogue print"' "$ROOT/schemas/renditions.json" >"$TMP/schemas/renditions.json"
PIM_SCHEMAS=$TMP/schemas start_pimd
req GET "$PIM/v1/channels/web/products/TEE-1?locale=en_US"
check "an edited preset: a new URL" is "$(jqb .images[0].renditions.thumb)" "$DAM/v1/renditions/$H/web-thumb?v=$(preset_tag "$TMP/schemas" web-thumb)"
check "not the old one" bash -c "[ '$(jqb .images[0].renditions.thumb)' != '$thumb' ]"
req GET "$PIM/v1/channels/print/products/TEE-1?locale=en_US"
check "an edited description: the same URL" is "$(jqb .images[0].url)" "$print"
req GET "$PIM/v1/ui-config"
check "the UI is given the same tags" is "$(jqb '.presets[]|select(.name=="web-thumb").tag')" "$(preset_tag "$TMP/schemas" web-thumb)"
