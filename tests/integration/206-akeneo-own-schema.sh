#!/usr/bin/env bash
# An Akeneo catalog moved over into a pimd started with --no-starter: the
# structure is Akeneo's alone, so nothing of the starter catalog gets in its
# way (in 204, the starter's text attribute `material` keeps the family
# variant clothing_material_size from being made). Every root model and
# sub-model of the icecat demo is then kept.
source "$(dirname "$0")/lib.sh"
start_pimd --no-starter
AK=$DATA/catalogs/akeneo-icecat-demo

req GET "$PIM/v1/attributes"
check "no starter: sku is the one attribute" is "$(jqb -c '[(.items // .)[].code]')" '["sku"]'
req GET "$PIM/v1/channels"
check "no starter: no channel" is "$(jqb '(.items // .) | length')" 0

# a channel names its category tree: categories come before channels
for f in currencies categories channels attributes attribute_options families family_variants association_types; do
	import_job "$AK/$f.csv" 'format=csv&profile=akeneo'
	check "structure $f.csv: done, nothing refused" is "$(jqb '"\(.status) \([.errors[] | select(.code=="schema_refused")] | length)"')" "done 0"
done
req GET "$PIM/v1/channels"
check "Akeneo's three channels" is "$(jqb -c '[(.items // .)[].code] | sort')" '["ecommerce","mobile","print"]'
req GET "$PIM/v1/attributes/material"
check "material is Akeneo's select, not the starter's text" is "$(jqb '"\(.type) \(.localizable)"')" "simple_select false"
req GET "$PIM/v1/families/clothing_material_size"
check "the family variant the starter kept out is made" is "$(jqb '.variant_axes | join(",")')" "material,size"

import_job "$AK/product_models.csv" 'format=csv&profile=akeneo'
check "product models: all 50 root models, none failed" is "$(jqb '"\(.created) \(.failed)"')" "50 0"
check "product models: all 31 sub-models kept" is "$(jqb .models.created)" 31

import_job "$AK/products.csv" 'format=csv&profile=akeneo'
check "products: 1238 of 1239 created (the row without a family fails, as in 204)" is "$(jqb '"\(.created) \(.failed)"')" "1238 1"
check "no product lost its parent" is "$(jqb '[.errors[] | select(.code=="unknown_parent")] | length')" 0
req GET "$PIM/v1/products/Biker-jacket-leather-s"
check "a biker jacket is a variant of its root, with its sub-model's material" \
	is "$(jqb '"\(.parent) \(.values.material[0].data)"')" "model-biker-jacket leather"

# the choice holds for the data directory: a restart without the flag does
# not seed the starter into it
stop_all
start_pimd
req GET "$PIM/v1/families/apparel"
check "after a restart without --no-starter: still no starter family" code_is 404
req GET "$PIM/v1/families/clothing_material_size"
check "and Akeneo's are kept" code_is 200
