#!/usr/bin/env bash
# schemas/json: a JSON Schema (draft 2020-12) for every document the API
# accepts. The starter catalog, the demo products, DESIGN.md's examples
# and what pimd itself returns validate against them; known-bad documents
# do not. The demo catalog also loads into pimd without a single error.
source "$(dirname "$0")/lib.sh"

SCHEMAS=$ROOT/schemas
# Validations are queued, then run by one Python process (importing
# jsonschema once), and each result becomes a check.
: >"$TMP/plan"
validate() { # validate SCHEMA FILE [invalid] DESCRIPTION...
	local schema=$1 file=$2 mode=valid
	shift 2
	if [ "${1:-}" = invalid ] || [ "${1:-}" = schema ]; then mode=$1; shift; fi
	printf '%s\t%s\t%s\t%s\n' "$SCHEMAS/json/$schema.schema.json" "$file" "$mode" "$*" >>"$TMP/plan"
}
run_validations() {
	local plan=$1 verdict what why
	while IFS=$'\t' read -r verdict what why; do
		[ -n "$why" ] && echo "    # $why" >&2
		check "$what" test "$verdict" = ok
	done < <(python3 - "$plan" <<'PY'
import json, sys
from jsonschema import Draft202012Validator
for line in open(sys.argv[1], encoding="utf-8"):
    schema_file, data_file, mode, what = line.rstrip("\n").split("\t", 3)
    try:
        schema = json.load(open(schema_file))
        Draft202012Validator.check_schema(schema)
        if mode == "schema":
            print("ok\t%s\t" % what)
            continue
        v = Draft202012Validator(schema)
        text = open(data_file, encoding="utf-8").read()
        try:
            docs = json.loads(text)
            docs = docs if isinstance(docs, list) else [docs]
        except ValueError:
            docs = [json.loads(l) for l in text.splitlines() if l.strip()]
        bad = {}
        for i, d in enumerate(docs):
            for e in v.iter_errors(d):
                bad.setdefault(i, e.message[:160])
        if mode == "invalid":
            ok, why = len(bad) == len(docs) and docs, "" if len(bad) == len(docs) else "some document was accepted"
        else:
            ok, why = not bad and docs, "; ".join("doc %d: %s" % kv for kv in list(bad.items())[:3])
    except Exception as e:  # a broken schema or file is a failed check
        ok, why = False, str(e)[:200]
    print("%s\t%s\t%s" % ("ok" if ok else "fail", what, why.replace("\t", " ").replace("\n", " ")))
PY
)
	: >"$plan"
}

for f in "$SCHEMAS"/json/*.schema.json; do
	n=$(basename "$f" .schema.json)
	validate "$n" "$f" schema "$n.schema.json is a valid draft 2020-12 schema"
done
declare -A kind_schema=([locales]=locale [currencies]=currency [channels]=channel [attributes]=attribute
	[families]=family [categories]=category [association-types]=association-type)
for kind in "${!kind_schema[@]}"; do
	validate "${kind_schema[$kind]}" "$SCHEMAS/starter/$kind.json" "starter $kind.json matches ${kind_schema[$kind]}.schema.json"
done
validate product "$SCHEMAS/demo/products.jsonl" "demo products match product.schema.json"
validate batch-line "$SCHEMAS/demo/products.jsonl" "demo products are batch lines"
check "demo has 20 to 40 products (plus variants)" test "$(grep -vc '"parent"' "$SCHEMAS/demo/products.jsonl")" -ge 20

# DESIGN.md's examples
cat >"$TMP/design-attrs.json" <<'EOF'
[{"code":"name","type":"text","localizable":true,"scopable":false,"validation":{"max_length":255},"labels":{"en_US":"Name","fr_FR":"Nom"}},
 {"code":"price","type":"price","scopable":true,"validation":{"decimals":2,"min":"0"}},
 {"code":"ean","type":"text","unique":true,"validation":{"gtin":true}}]
EOF
validate attribute "$TMP/design-attrs.json" "DESIGN.md attribute examples"
echo '{"code":"tshirt","attributes":["sku","name","description","price","color","size","images","gtin"],"label_attribute":"name","image_attribute":"images","requirements":{"web":["name","description","price","images"],"print":["name","price"]},"variant_axes":["color","size"],"variant_attributes":["sku","size","gtin","price"]}' >"$TMP/design-family.json"
validate family "$TMP/design-family.json" "DESIGN.md family example"
echo '{"code":"web","locales":["en_US","fr_FR"],"currencies":["EUR"],"category_tree":"master","renditions":{"main":"web-large","thumb":"web-thumb"}}' >"$TMP/design-channel.json"
validate channel "$TMP/design-channel.json" "DESIGN.md channel example"
cat >"$TMP/design-product.json" <<'EOF'
{"sku":"TS-001-RED-M","family":"tshirt","parent":"TS-001","categories":["men_tshirts"],"enabled":true,
 "values":{
   "name":[{"locale":"en_US","channel":null,"data":"Organic tee"},
           {"locale":"fr_FR","channel":null,"data":"T-shirt bio"}],
   "price":[{"locale":null,"channel":"web","data":[{"amount":"19.90","currency":"EUR"}]}],
   "size":[{"locale":null,"channel":null,"data":"m"}],
   "images":[{"locale":null,"channel":null,"data":["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]}]},
 "associations":{"cross_sell":{"products":["CAP-010"]}}}
EOF
validate product "$TMP/design-product.json" "DESIGN.md product example"
echo '{"version":3}' >"$TMP/revert.json"; validate revert "$TMP/revert.json" "revert document"
echo '{"name":"shop","role":"reader"}' >"$TMP/token.json"; validate token "$TMP/token.json" "token document"
echo '{"enabled":false,"values":{"description":null}}' >"$TMP/patch.json"; validate patch "$TMP/patch.json" "merge patch document"

# documents the schemas refuse
cat >"$TMP/bad-products.ndjson" <<'EOF'
{"sku":"X","family":"home","values":{"price":[{"locale":null,"channel":null,"data":[{"amount":12.5,"currency":"EUR"}]}]}}
{"sku":"X/1","family":"home"}
{"sku":"X","family":"home","colour":"red"}
{"family":"home"}
EOF
validate product "$TMP/bad-products.ndjson" invalid "bad products are refused by product.schema.json"
echo '[{"code":"x","type":"color"},{"code":"s","type":"simple_select"}]' >"$TMP/bad-attrs.json"
validate attribute "$TMP/bad-attrs.json" invalid "bad attributes are refused"

run_validations "$TMP/plan"

# what pimd accepts and returns matches too
start_pimd
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary @"$SCHEMAS/demo/products.jsonl"
check "demo catalog loads without an error" is "$(jq -s '[.[]|select(.status>=300)]|length' "$TMP/body")" 0
check "every demo line created" is "$(grep -c '"outcome":"created"' "$TMP/body")" "$(grep -c . "$SCHEMAS/demo/products.jsonl")"
req GET "$PIM/v1/products?limit=1000"; jq '.items' "$TMP/body" >"$TMP/stored.json"
validate product "$TMP/stored.json" "stored products match product.schema.json"
for kind in "${!kind_schema[@]}"; do
	req GET "$PIM/v1/$kind"; jq '.items' "$TMP/body" >"$TMP/served-$kind.json"
	validate "${kind_schema[$kind]}" "$TMP/served-$kind.json" "served $kind match"
done
req GET "$PIM/v1/channels/app/products/TS-001-RED-M?locale=fr_FR"; check "demo variant published on app" code_is 200
check "with its French name" is "$(jqb .name)" "T-shirt col rond en coton bio"
req GET "$PIM/v1/channels/web/products/SET-004?locale=de_DE"; check "pack published on web/de_DE" code_is 200
check "pack lists its products" is "$(jqb '.associations.pack|join(",")')" MUG-001,PLT-002
req GET "$PIM/v1/channels/web/products/DRAFT-900"; check "the demo draft is unpublished" code_is 404
run_validations "$TMP/plan"
