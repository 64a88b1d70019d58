#!/usr/bin/env bash
# Akeneo sub-models (a second variant level) with the akeneo profile, on a
# hand-written catalog (tests/data/akeneo-submodels): a sub-model is kept
# as a record, not a product; its products become variants of the root
# model with the sub-model's values under their own; a sub-model imported
# again reaches the variants imported under it; dry runs keep nothing;
# modes create and update hold for records; records outlive the job (a
# later pimctl --offline import of the products finds them); the same
# catalog as Akeneo's standard JSON lines.
source "$(dirname "$0")/lib.sh"
start_pimd
FX=$ROOT/tests/data/akeneo-submodels

job() { import_job "$FX/$1" "format=csv&profile=akeneo&${2:-}"; }
# product SKU JQ: the product's JSON through jq
product() { req GET "$PIM/v1/products/$1"; jqb "$2"; }
val() { product "$1" "[.values.$2[]? | select(.locale == ${3:-null}) | .data] | first // \"none\""; }
counts() { jqb '"\(.rows) rows, \(.created) created, \(.updated) updated, \(.failed) failed; models \(.models.created)/\(.models.updated)/\(.models.unchanged), variants \(.models.variants_updated)"'; }

for f in families family_variants; do
	job $f.csv; check "structure $f.csv" is "$(jqb '"\(.status) \(.schema_written)"')" "done 1"
done

job product_models.csv dry_run=true
check "dry run of the models: counted" is "$(counts)" "4 rows, 1 created, 0 updated, 1 failed; models 2/0/0, variants 0"
job product_models.csv
check "models: the root is a product, 2 sub-models kept, 1 fails" is "$(counts)" "4 rows, 1 created, 0 updated, 1 failed; models 2/0/0, variants 0"
check "a sub-model whose root is not in the catalog fails its row" is \
	"$(jqb '.errors[] | select(.line == 5) | "\(.field) \(.code) \(.message | test("nosuchroot"))"')" "parent unknown_parent true"
req GET "$PIM/v1/products/oxford_blue"; check "a sub-model is no product" code_is 404

job products.csv
check "products: 5 created" is "$(counts)" "5 rows, 5 created, 0 updated, 0 failed; models 0/0/0, variants 0"
check "a parent that is neither a product nor a sub-model: reported" is \
	"$(jqb '.errors[] | select(.line == 6) | "\(.code) \(.message | test("neither a product nor a sub-model"))"')" "unknown_parent true"
check "variant under the root model, in the family variant's family" is \
	"$(product OX-BLUE-S '"\(.parent) \(.family)"')" "oxford shirts_color_size"
check "the sub-model's axis and its own" is "$(val OX-BLUE-S color) $(val OX-BLUE-S size)" "blue s"
check "the sub-model's other level-1 values, every locale" is \
	"$(val OX-BLUE-S material '"en_US"')/$(val OX-BLUE-S material '"fr_FR"')/$(val OX-BLUE-S care_instructions '"en_US"')" \
	"Cotton/Coton/Wash at 30"
check "the sub-model's categories" is "$(product OX-BLUE-S '.categories | join(",")')" "men_shirts,print_spring"
check "root values stay the root's (inherited, not copied)" is "$(product OX-BLUE-S '.values | has("name") or has("price")')" false
check "a parent named in another case finds the sub-model (Akeneo codes ignore case)" is \
	"$(product OX-BLUE-M '.parent')/$(val OX-BLUE-M color)" "oxford/blue"
check "a variant's own value wins over its sub-model's" is "$(val OX-WHITE-M color)/$(val OX-WHITE-M material '"en_US"')" "ivory/Linen"
check "... and the product imported on its own" is "$(product OX-ORPHAN '"\(.parent) \(.family)"')" "null shirts"
req GET "$PIM/v1/channels/web/products/oxford?locale=en_US"
check "the root's projection lists every variant" is "$(jqb '.variants | join(",")')" "OX-BLUE-M,OX-BLUE-S,OX-WHITE-M,OX-WHITE-S"
req GET "$PIM/v1/channels/web/products/OX-BLUE-S?locale=en_US"
check "the variant's projection: both axes and the root's values" is \
	"$(jqb '"\(.color) \(.size) \(.material) \(.name) \(.price.amount)"')" "blue s Cotton Oxford shirt 39.90"

req GET "$PIM/v1/models/OXFORD_BLUE"
check "a sub-model's record, by its code in any case, with its variants" \
	is "$(jqb '"\(.code) \(.parent) \(.family) \(.values.color[0].data) \(.variants | join(","))"')" \
	"oxford_blue oxford shirts_color_size blue OX-BLUE-M,OX-BLUE-S"
req GET "$PIM/v1/models/oxford"; check "a root model is a product, not a sub-model: 404" code_is 404

job product_models_changed.csv dry_run=true
check "changed sub-models, dry run: counted" is "$(counts)" "2 rows, 0 created, 0 updated, 0 failed; models 0/2/0, variants 3"
check "... and nothing changed" is "$(val OX-BLUE-S color)" blue
job product_models_changed.csv
check "changed sub-models reach 3 variants" is "$(counts)" "2 rows, 0 created, 0 updated, 0 failed; models 0/2/0, variants 3"
check "the changed axis and value reach the variants" is \
	"$(val OX-BLUE-S color)/$(val OX-BLUE-M color)/$(val OX-BLUE-S material '"en_US"')/$(val OX-WHITE-S color)" \
	"navy/navy/Oxford cotton/cream"
check "values the row did not name are kept" is "$(val OX-BLUE-S material '"fr_FR"')/$(val OX-BLUE-S size)" "Coton/s"
check "a category the sub-model dropped leaves its variants" is "$(product OX-BLUE-S '.categories | join(",")')" men_shirts
check "a variant's own value stays" is "$(product OX-WHITE-M '"\(.version) \([.values.color[].data] | first)"')" "1 ivory"
req GET "$PIM/v1/products/OX-BLUE-S/history"
check "the variant's history records the change" is "$(jqb '[.items[-1].changes[].path] | sort | join(",")')" "/categories,/values/color,/values/material"
job product_models_changed.csv
check "the same sub-models again: unchanged, no variant written" is "$(counts)" "2 rows, 0 created, 0 updated, 0 failed; models 0/0/2, variants 0"

PIM_TOKEN=$TOKEN "$BIN/pimctl" import --url "$PIM" --profile akeneo "$FX/product_models_changed.csv" >"$TMP/out" 2>&1
check "pimctl prints the sub-models" grep -q '^done: 2 rows, 0 created, 0 updated, 0 unchanged, 0 failed.*, sub-models: 0 kept, 0 changed, 2 unchanged, 0 variants updated' "$TMP/out"

job product_models.csv mode=create
check "mode create: existing sub-models fail" is "$(jqb '[.errors[] | select(.code == "exists" and .field == "code")] | length')" 2
check "... and are not changed" is "$(val OX-BLUE-S color)" navy
job product_models_new.csv mode=update
check "mode update: a new sub-model fails" is "$(jqb '"\(.failed) \(.errors[0].code)"')" "1 not_found"
job product_models_new.csv dry_run=true
check "new sub-model, dry run: counted" is "$(jqb .models.created)" 1
job products_new.csv
check "... but not kept" is "$(jqb '"\(.created) \(.errors[0].code)"')" "1 unknown_parent"
reqj DELETE "$PIM/v1/products/OX-GREEN-S" ''

job product_models_new.csv
check "new sub-model kept" is "$(jqb .models.created)" 1
stop_all
"$BIN/pimctl" import --offline --data "$PIM_DATA" --schemas "$ROOT/schemas" --profile akeneo "$FX/products_new.csv" >"$TMP/out" 2>&1
check "pimctl --offline, later: the product finds the kept sub-model" grep -q '^done: 1 rows, 1 created, 0 updated, 0 unchanged, 0 failed' "$TMP/out"
start_pimd
check "... and is a variant of the root" is "$(product OX-GREEN-S '.parent')/$(val OX-GREEN-S color)" "oxford/green"

# the same catalog as Akeneo's standard JSON (the API's and the JSON
# export's format), one document a line, into a fresh store
stop_all
PIM_DATA=$TMP/pim-jsonl start_pimd
job families.csv; job family_variants.csv
import_job "$FX/product_models.jsonl" "format=jsonl&profile=akeneo"
check "JSON lines of product models: the root is a product, 2 sub-models kept, 1 fails" \
	is "$(counts)" "4 rows, 1 created, 0 updated, 1 failed; models 2/0/0, variants 0"
check "... the one whose root is not in the catalog" is "$(jqb '.errors[] | "\(.line) \(.code)"')" "4 unknown_parent"
check "the root model is a product of the family variant" is "$(product oxford .family)" shirts_color_size
req GET "$PIM/v1/products/oxford_blue"; check "a sub-model is no product" code_is 404
import_job "$FX/products.jsonl" "format=jsonl&profile=akeneo"
check "JSON lines of products: 3 created" is "$(counts)" "3 rows, 3 created, 0 updated, 0 failed; models 0/0/0, variants 0"
check "a variant under its root, with its sub-model's values and its own" \
	is "$(product OX-BLUE-S '"\(.parent) \(.family)"') $(val OX-BLUE-S color) $(val OX-BLUE-S size) $(val OX-BLUE-S material '"fr_FR"')" \
	"oxford shirts_color_size blue s Coton"
check "the sub-model's categories" is "$(product OX-BLUE-S '.categories | join(",")')" "men_shirts,print_spring"
check "the other sub-model's variant" is "$(val OX-WHITE-S color)/$(val OX-WHITE-S material '"en_US"')" "white/Linen"
import_job "$FX/product_models_assoc.jsonl" "format=jsonl&profile=akeneo"
check "a sub-model gains a cross-sell: its 2 variants updated" is "$(counts)" "1 rows, 0 created, 0 updated, 0 failed; models 0/1/0, variants 2"
check "... and link what it links" is "$(product OX-BLUE-M '.associations.cross_sell.products | join(",")')" OX-WHITE-S
check "a variant of the other sub-model does not" is "$(product OX-WHITE-S '.associations.cross_sell // "none"')" none
