#!/usr/bin/env bash
# pimd schema: the starter catalog is seeded on first start, every kind is
# listable and editable through the API, bad schema documents get 422 with
# pointers, documents in use cannot be deleted, sku is implicit.
source "$(dirname "$0")/lib.sh"

start_pimd

for kind in locales currencies channels attributes families categories association-types; do
	req GET "$PIM/v1/$kind"; check "GET /v1/$kind" code_is 200
	check "$kind seeded from schemas/starter" test "$(jqb '.items|length')" -gt 0
done
req GET "$PIM/v1/locales"; check "3 starter locales" is "$(jqb '[.items[].code]|sort|join(",")')" "de_DE,en_US,fr_FR"
req GET "$PIM/v1/attributes?limit=1000"; all=$(jqb '[.items[].code]|join(",")')
check "attributes in code order" is "$all" "$(jqb '[.items[].code]|sort|join(",")')"
paged "$PIM/v1/attributes?limit=3" code
check "attributes page by 3 over every one ($PAGES pages)" is "$PAGED" "$all"
req GET "$PIM/v1/attributes?limit=3"; acur=$(jqb .next_cursor)
req GET "$PIM/v1/families?cursor=$acur"; check "an attributes cursor on families: 400" code_is 400
req GET "$PIM/v1/locales?limit=0"; check "limit=0: 400" code_is 400
req GET "$PIM/v1/channels"
check "5 starter channels" is "$(jqb '[.items[].code]|sort|join(",")')" "app,marketplace,print,store,web"
req GET "$PIM/v1/channels/web"; check "web channel renditions" is "$(jqb .renditions.main)" web-large
req GET "$PIM/v1/families/apparel"; check "apparel variant axes" is "$(jqb '.variant_axes|join(",")')" color,size
req GET "$PIM/v1/attributes/price"; check "price is a price attribute" is "$(jqb .type)" price

# sku: identifier, re-PUT is a no-op, other types refused
reqj PUT "$PIM/v1/attributes/sku" '{"code":"sku","type":"identifier","localizable":false,"scopable":false}'
check "re-PUT sku as identifier succeeds" code_is 200
reqj PUT "$PIM/v1/attributes/sku" '{"code":"sku","type":"text"}'; check "sku as text: 422" code_is 422
reqj PUT "$PIM/v1/attributes/ean2" '{"type":"identifier"}'; check "a second identifier: 422" code_is 422

# create and edit
reqj PUT "$PIM/v1/locales/it_IT" '{"code":"it_IT","labels":{"en_US":"Italian"}}'; check "new locale: 201" code_is 201
reqj PUT "$PIM/v1/locales/it_IT" '{"code":"it_IT","labels":{"en_US":"Italian (Italy)"}}'; check "replace locale: 200" code_is 200
req GET "$PIM/v1/locales/it_IT"; check "label replaced" is "$(jqb '.labels.en_US')" "Italian (Italy)"
reqj PUT "$PIM/v1/attributes/stock" '{"type":"number","validation":{"min":"0","max":"1000","decimals":0}}'
check "number attribute with min/max" code_is 201
check "defaults filled in" is "$(jqb '[.localizable,.scopable,.unique]|map(tostring)|join(",")')" false,false,false
reqj PUT "$PIM/v1/families/tshirt" '{"code":"tshirt","attributes":["name","description","price","color","size","images","gtin"],"label_attribute":"name","image_attribute":"images","requirements":{"web":["name","description","price","images"],"print":["name","price"]},"variant_axes":["color","size"],"variant_attributes":["sku","size","gtin","price"]}'
check "DESIGN.md family example: 201" code_is 201
check "sku implicit in every family" is "$(jqb '.attributes[0]')" sku
reqj PUT "$PIM/v1/channels/kiosk" '{"code":"kiosk","locales":["it_IT"],"currencies":["EUR"],"category_tree":"master"}'
check "channel on the new locale" code_is 201

# bad documents
reqj PUT "$PIM/v1/channels/bad" '{"locales":["xx_XX"],"currencies":["ZZZ"],"category_tree":"nope"}'
check "bad channel: 422" code_is 422
check "bad channel: problem+json" is "$(header content-type)" application/problem+json
check "bad channel: every problem listed" is "$(jqb '[.errors[].path]|sort|join(",")')" "/category_tree,/currencies/0,/locales/0"
check "bad channel: codes" is "$(jqb '[.errors[].code]|sort|join(",")')" "unknown_category,unknown_currency,unknown_locale"
req GET "$PIM/v1/channels/bad"; check "rejected channel not stored" code_is 404
reqj PUT "$PIM/v1/attributes/bad" '{"type":"color"}'; check "unknown type: 422" code_is 422
check "unknown type code" is "$(jqb '.errors[0].code')" unknown_type
reqj PUT "$PIM/v1/attributes/bad" '{"type":"simple_select"}'; check "select without options: 422" code_is 422
reqj PUT "$PIM/v1/attributes/bad" '{"type":"text","validation":{"regex":"([a-z"}}'; check "bad regex: 422" code_is 422
reqj PUT "$PIM/v1/families/bad" '{"attributes":["nope"],"requirements":{"web":["price"]}}'
check "family: unknown attribute, requirement outside family" is "$(jqb '[.errors[].code]|sort|join(",")')" "unknown_attribute,unknown_attribute"
reqj PUT "$PIM/v1/categories/loop" '{"parent":"loop"}'; check "category its own parent: 422" code_is 422
reqj PUT "$PIM/v1/currencies/euro" '{}'; check "currency code must be ISO 4217" code_is 422
reqj PUT "$PIM/v1/locales/other" '{"code":"it_IT"}'; check "code must match the path" code_is 422

# deletes
req DELETE "$PIM/v1/locales/it_IT"; check "locale used by a channel: 409" code_is 409
req DELETE "$PIM/v1/channels/kiosk"; check "delete channel: 204" code_is 204
req DELETE "$PIM/v1/locales/it_IT"; check "then the locale: 204" code_is 204
req GET "$PIM/v1/locales/it_IT"; check "deleted locale: 404" code_is 404
req DELETE "$PIM/v1/attributes/sku"; check "sku cannot be deleted" code_is 409
req DELETE "$PIM/v1/categories/apparel"; check "category with children: 409" code_is 409

# roles
reqj POST "$PIM/v1/tokens" '{"name":"ro","role":"reader"}'; reader=$(jqb .token)
AS_TOKEN=$reader reqj PUT "$PIM/v1/locales/es_ES" '{}'; check "reader cannot write schema: 403" code_is 403
AS_TOKEN=$reader req GET "$PIM/v1/locales"; check "reader reads schema" code_is 200
AS_TOKEN= req GET "$PIM/v1/locales"; check "anonymous: 401" code_is 401
reqj POST "$PIM/v1/tokens" '{"name":"merch","role":"merchandiser"}'; merch=$(jqb .token)
AS_TOKEN=$merch reqj PUT "$PIM/v1/categories/merch_made" '{"parent":"master"}'
check "merchandiser writes categories" code_is 201
for kind in locales currencies channels attributes families association-types; do
	AS_TOKEN=$merch reqj PUT "$PIM/v1/$kind/xx" '{}'
	check "merchandiser cannot write $kind: 403" code_is 403
	AS_TOKEN=$merch req DELETE "$PIM/v1/$kind/xx"
	check "merchandiser cannot delete $kind: 403" code_is 403
done

# an attribute's type, locale and channel scoping are fixed once products use it
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"text","localizable":true}'; check "new attribute" code_is 201
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"textarea","localizable":true}'
check "unused attribute: type may change" code_is 200
reqj PUT "$PIM/v1/families/fabrics" '{"attributes":["sku","fabric"]}'; check "family with it" code_is 201
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"text","localizable":true}'
check "family without products: type may change" code_is 200
reqj PUT "$PIM/v1/products/FAB-1" '{"sku":"FAB-1","family":"fabrics","values":{"fabric":[{"locale":"en_US","data":"linen"}]}}'
check "a product of that family" code_is 201
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"text"}'
check "localizable dropped while in use: 409" code_is 409
check "409 says why" bash -c "jq -r .detail '$TMP/body' | grep -q \"family 'fabrics', which has products: its 'localizable' cannot change\""
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"number","localizable":true}'
check "type changed while in use: 409" code_is 409
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"text","localizable":true,"scopable":true}'
check "scopable changed while in use: 409" code_is 409
req GET "$PIM/v1/attributes/fabric"; check "the attribute is as it was" is "$(jqb '[.type,.localizable,.scopable]|join(",")')" "text,true,false"
reqj PUT "$PIM/v1/attributes/fabric" '{"type":"text","localizable":true,"labels":{"en_US":"Fabric"}}'
check "other fields still change while in use" code_is 200
reqj PATCH "$PIM/v1/products/FAB-1" '{"enabled":false}'; check "the product still takes writes" code_is 200

# the seed runs once: a restart keeps edits
req GET "$PIM/v1/attributes/stock"; check "edit present before restart" code_is 200
stop_all
start_pimd
req GET "$PIM/v1/attributes/stock"; check "edits survive a restart (no re-seed)" code_is 200
req GET "$PIM/v1/channels/kiosk"; check "deleted channel stays deleted" code_is 404
