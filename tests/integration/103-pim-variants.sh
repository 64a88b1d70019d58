#!/usr/bin/env bash
# pimd variants and completeness: children inherit their parent's values
# and set only variant attributes, axis values are unique among siblings,
# a parent write changes what its children publish, completeness follows
# every write.
source "$(dirname "$0")/lib.sh"

start_pimd

nv() { jq -cn --arg d "$1" '[{locale:null,channel:null,data:$d}]'; }
reqj PUT "$PIM/v1/products/TS-001" "$(jq -cn '{sku:"TS-001",family:"apparel",categories:["men_tshirts"],values:{
	name:[{locale:"en_US",channel:null,data:"Organic tee"},{locale:"fr_FR",channel:null,data:"T-shirt bio"}],
	description:[{locale:"en_US",channel:null,data:"Soft organic cotton."}],
	price:[{locale:null,channel:null,data:[{amount:"19.90",currency:"EUR"}]}]}}')"
check "parent model: 201" code_is 201
check "parent lacks images for web" is "$(jqb '.completeness["web/en_US"].missing|join(",")')" images
check "parent web ratio 66" is "$(jqb '.completeness["web/en_US"].ratio')" 66
check "parent complete for app" is "$(jqb '.completeness["app/en_US"].ratio')" 100
child() { jq -cn --arg s "$1" --arg c "$2" --arg z "$3" '{sku:$s,family:"apparel",parent:"TS-001",values:{
	color:[{locale:null,channel:null,data:$c}],size:[{locale:null,channel:null,data:$z}],
	images:[{locale:null,channel:null,data:["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}]}}'; }
reqj PUT "$PIM/v1/products/TS-001-RED-M" "$(child TS-001-RED-M red m)"; check "variant: 201" code_is 201
check "variant complete for web via inherited name and price" is "$(jqb '.completeness["web/en_US"].ratio')" 100
check "variant stores only its own values" is "$(jqb '.values|keys|join(",")')" color,images,size
reqj PUT "$PIM/v1/products/TS-001-RED-L" "$(child TS-001-RED-L red l)"; check "second variant" code_is 201
req GET "$PIM/v1/products?parent=TS-001"; check "?parent= lists the variants" is "$(jqb '[.items[].sku]|join(",")')" TS-001-RED-L,TS-001-RED-M
req GET "$PIM/v1/products?parent=TS-001-RED-M"; check "a variant has none" is "$(jqb '.items|length')" 0
reqj PUT "$PIM/v1/products/TS-001-DUP" "$(child TS-001-DUP red m)"
check "same axis values as a sibling: 422" code_is 422
check "duplicate_variant_axes" is "$(jqb '.errors[0].code')" duplicate_variant_axes
reqj PUT "$PIM/v1/products/TS-001-NOAX" "$(child TS-001-NOAX red m | jq -c 'del(.values.size)')"
check "missing axis: 422" is "$(jqb '.errors[0].code')" missing_variant_axis
reqj PUT "$PIM/v1/products/TS-001-BAD" "$(child TS-001-BAD blue s | jq -c '.values.name=[{locale:"en_US",channel:null,data:"x"}]')"
check "variant setting a non-variant attribute: 422" code_is 422
check "not_a_variant_attribute at /values/name" is "$(jqb '.errors[0].code + " " + .errors[0].path')" "not_a_variant_attribute /values/name"
reqj PUT "$PIM/v1/products/MUG-9" '{"sku":"MUG-9","family":"home","values":{}}'
reqj PUT "$PIM/v1/products/TS-001-MIX" "$(child TS-001-MIX blue s | jq -c '.parent="MUG-9"')"
check "parent of another family: 422" is "$(jqb '.errors[0].code')" parent_family_mismatch
reqj PUT "$PIM/v1/products/TS-001-NEST" "$(child TS-001-NEST blue s | jq -c '.parent="TS-001-RED-M"')"
check "variant of a variant: 422" is "$(jqb '.errors[0].code')" nested_variant

# the projection of a variant shows inherited values
req GET "$PIM/v1/channels/web/products/TS-001-RED-M?locale=fr_FR"; check "variant projection: 200" code_is 200
check "inherited localized name" is "$(jqb .name)" "T-shirt bio"
check "inherited price" is "$(jqb .price.amount)" 19.90
check "own color" is "$(jqb .color)" red
check "parent named" is "$(jqb .parent)" TS-001
check "inherited categories" is "$(jqb '.categories|join(",")')" men_tshirts

# a parent write changes what the children publish (and their completeness)
etag=$(curl -s -D - -o /dev/null "$PIM/v1/channels/web/products/TS-001-RED-M?locale=en_US" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
reqj PATCH "$PIM/v1/products/TS-001" '{"values":{"price":[{"locale":null,"channel":null,"data":[{"amount":"17.50","currency":"EUR"}]}]}}'
check "parent price change: 200" code_is 200
req GET "$PIM/v1/channels/web/products/TS-001-RED-M?locale=en_US" -H "If-None-Match: $etag"
check "child projection changed with its parent (no 304)" code_is 200
check "child publishes the new parent price" is "$(jqb .price.amount)" 17.50
reqj PATCH "$PIM/v1/products/TS-001" '{"values":{"name":null}}'; check "remove the parent's name" code_is 200
req GET "$PIM/v1/products/TS-001-RED-M"
check "child completeness follows its parent" is "$(jqb '.completeness["web/en_US"].missing|join(",")')" name
req GET "$PIM/v1/channels/web/products/TS-001-RED-M?locale=en_US"; check "child now unpublished: 404" code_is 404
req GET "$PIM/v1/products?complete=web/en_US&family=apparel"
check "completeness filter follows the parent" is "$(jqb '[.items[].sku]|join(",")')" ""
reqj PATCH "$PIM/v1/products/TS-001" '{"values":{"name":[{"locale":"en_US","channel":null,"data":"Organic tee"}]}}'
req GET "$PIM/v1/products?complete=web/en_US&family=apparel"
check "children complete again" is "$(jqb '[.items[].sku]|join(",")')" TS-001-RED-L,TS-001-RED-M
req GET "$PIM/v1/channels/web/products/TS-001?locale=en_US"; check "incomplete parent unpublished on web" code_is 404
req GET "$PIM/v1/channels/app/products/TS-001?locale=en_US"; check "parent published on app" code_is 200
check "parent lists its published variants" is "$(jqb '.variants|join(",")')" TS-001-RED-L,TS-001-RED-M

# completeness changes on write, and with the family's requirements
reqj PUT "$PIM/v1/products/LAMP" '{"sku":"LAMP","family":"home","categories":["lighting"],"values":{"name":[{"locale":"en_US","channel":null,"data":"Desk lamp"}]}}'
check "lamp missing price" is "$(jqb '.completeness["web/en_US"].missing|join(",")')" price
check "lamp 50% for web/en_US" is "$(jqb '.completeness["web/en_US"].ratio')" 50
check "lamp 0% for web/fr_FR" is "$(jqb '.completeness["web/fr_FR"].ratio')" 0
reqj PATCH "$PIM/v1/products/LAMP" '{"values":{"price":[{"locale":null,"channel":null,"data":[{"amount":"39.00","currency":"EUR"}]}]}}'
check "adding the price completes web/en_US" is "$(jqb '.completeness["web/en_US"].ratio')" 100
check "marketplace (USD, EUR) accepts the EUR price" is "$(jqb '.completeness["marketplace/en_US"].ratio')" 100
check "print still needs a description" is "$(jqb '.completeness["print/en_US"].missing|join(",")')" description
reqj PUT "$PIM/v1/families/home" "$(curl -s -H "Authorization: Bearer $TOKEN" "$PIM/v1/families/home" | jq -c '.requirements.web += ["brand"]')"
check "family requirement added" code_is 200
req GET "$PIM/v1/products/LAMP"; check "completeness recomputed on a family change" is "$(jqb '.completeness["web/en_US"].missing|join(",")')" brand
req GET "$PIM/v1/channels/web/products/LAMP?locale=en_US"; check "now unpublished on web" code_is 404

# deleting a parent with variants is refused
req DELETE "$PIM/v1/products/TS-001"; check "parent with variants: 409" code_is 409
