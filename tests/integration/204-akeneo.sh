#!/usr/bin/env bash
# A whole Akeneo catalog moves over (the icecat demo): its structure files
# through the akeneo profile become locales, currencies, channels,
# categories, attributes with options, families and family variants; then
# its product models and products import against that structure.
source "$(dirname "$0")/lib.sh"
start_pimd
AK=$DATA/catalogs/akeneo-icecat-demo

job() {
	req POST "$PIM/v1/imports?$2" --data-binary @"$1"
	[ "$CODE" = 202 ] || { echo "    # POST gave $CODE: $(head -c 300 "$TMP/body")" >&2; return 1; }
	local id i; id=$(jqb .id)
	for i in $(seq 1 900); do
		req GET "$PIM/v1/imports/$id"
		case $(jqb .status) in done | failed | cancelled) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

for f in currencies channels categories attributes attribute_options families family_variants association_types; do
	job "$AK/$f.csv" 'format=csv&profile=akeneo'
	check "structure $f.csv: done" is "$(jqb .status)" done
	eval "written_$f=$(jqb .schema_written)"
done
check "channels ecommerce and mobile created (print was there)" is "$written_channels" 2
check "categories created (master was there)" is "$written_categories" 167
check "attributes created (identifier kept)" bash -c "[ $written_attributes -ge 60 ]"
req GET "$PIM/v1/channels/ecommerce"; check "channel ecommerce" is "$(jqb '.locales | length')" 3
req GET "$PIM/v1/attributes/auto_focus_modes"
check "localizable text attribute" is "$(jqb '"\(.type) \(.localizable)"')" "text true"
req GET "$PIM/v1/attributes/multifunctional_functions"
check "multi-select with the options of attribute_options.csv" is "$(jqb '"\(.type) \(.options | length > 0)"')" "multi_select true"
req GET "$PIM/v1/families/clothing_color_size"
check "family variant became a family with both levels' axes" is "$(jqb '.variant_axes | join(",")')" "color,size"
req GET "$PIM/v1/families/webcams"
check "family requirements per channel" is "$(jqb '.requirements.ecommerce | index("name") != null')" true

job "$AK/product_models.csv" 'format=csv&profile=akeneo'
check "product models: 49 root models created" is "$(jqb .created)" 49
check "product models: the 29 sub-models (a second variant level) reported" is "$(jqb '[.errors[] | select(.code=="missing_variant_axis")] | length')" 29
job "$AK/products.csv" 'format=csv&profile=akeneo'
check "products: 1238 of 1239 created" is "$(jqb .created)/$(jqb .failed)" "1238/1"
check "products: the row without a family is the one that failed" is "$(jqb '.errors[] | select(.field=="/family") | .code')" required
check "products: image file names reported once per column" is "$(jqb '[.errors[] | select(.code=="asset_file_name")] | length')" 3
req GET "$PIM/v1/products/1111111111"
check "spot value: variant under its model, in the model's family" is "$(jqb '.parent + " " + .family')" "amor clothing_colorsize"
req GET "$PIM/v1/products/amor"
check "spot value: the model's scopable localized description" bash -c "jq -e '.values.description[] | select(.locale==\"en_US\" and .channel==\"ecommerce\")' '$TMP/body' >/dev/null"
req GET "$PIM/v1/products/Tshirt-divided-blue-s"
check "spot value: price in EUR and USD" is "$(jqb '.values.price[0].data | map("\(.amount) \(.currency)") | sort | join(",")')" "19 EUR,19 USD"
req GET "$PIM/v1/products?family=webcams&limit=500"
check "spot count: 96 webcams" is "$(jqb '.items | length')" 96
