#!/usr/bin/env bash
# schemas/json: a JSON Schema (draft 2020-12) for every document the API
# accepts. The starter catalog, the demo products, DESIGN.md's examples
# and what pimd itself returns validate against them; known-bad documents
# do not. The demo catalog also loads into pimd without a single error.
source "$(dirname "$0")/lib.sh"

SCHEMAS=$ROOT/schemas
validate() { # validate SCHEMA FILE(json array or NDJSON) [expect-invalid]
	python3 - "$SCHEMAS/json/$1.schema.json" "$2" "${3:-}" <<'PY'
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
text = open(sys.argv[2], encoding="utf-8").read()
try:
    docs = json.loads(text)
    if not isinstance(docs, list):
        docs = [docs]
except ValueError:
    docs = [json.loads(l) for l in text.splitlines() if l.strip()]
bad = [(i, e.message) for i, d in enumerate(docs) for e in v.iter_errors(d)]
if sys.argv[3]:
    ok = len(bad) >= len(docs) and all(any(b[0] == i for b in bad) for i in range(len(docs)))
else:
    ok = not bad and len(docs) > 0
    for i, m in bad[:5]:
        print("    # doc %d: %s" % (i, m[:200]), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

for f in "$SCHEMAS"/json/*.schema.json; do
	check "$(basename "$f") is a valid draft 2020-12 schema" \
		python3 -c "import json,sys; from jsonschema import Draft202012Validator as V; V.check_schema(json.load(open(sys.argv[1])))" "$f"
done
declare -A kind_schema=([locales]=locale [currencies]=currency [channels]=channel [attributes]=attribute
	[families]=family [categories]=category [association-types]=association-type)
for kind in "${!kind_schema[@]}"; do
	check "starter $kind.json matches ${kind_schema[$kind]}.schema.json" validate "${kind_schema[$kind]}" "$SCHEMAS/starter/$kind.json"
done
check "demo products match product.schema.json" validate product "$SCHEMAS/demo/products.jsonl"
check "demo products are batch lines" validate batch-line "$SCHEMAS/demo/products.jsonl"
check "demo has 20 to 40 products (plus variants)" test "$(grep -vc '"parent"' "$SCHEMAS/demo/products.jsonl")" -ge 20

# DESIGN.md's examples
cat >"$TMP/design-attrs.json" <<'EOF'
[{"code":"name","type":"text","localizable":true,"scopable":false,"validation":{"max_length":255},"labels":{"en_US":"Name","fr_FR":"Nom"}},
 {"code":"price","type":"price","scopable":true,"validation":{"decimals":2,"min":"0"}},
 {"code":"ean","type":"text","unique":true,"validation":{"gtin":true}}]
EOF
check "DESIGN.md attribute examples" validate attribute "$TMP/design-attrs.json"
echo '{"code":"tshirt","attributes":["sku","name","description","price","color","size","images","gtin"],"label_attribute":"name","image_attribute":"images","requirements":{"web":["name","description","price","images"],"print":["name","price"]},"variant_axes":["color","size"],"variant_attributes":["sku","size","gtin","price"]}' >"$TMP/design-family.json"
check "DESIGN.md family example" validate family "$TMP/design-family.json"
echo '{"code":"web","locales":["en_US","fr_FR"],"currencies":["EUR"],"category_tree":"master","renditions":{"main":"web-large","thumb":"web-thumb"}}' >"$TMP/design-channel.json"
check "DESIGN.md channel example" validate channel "$TMP/design-channel.json"
cat >"$TMP/design-product.json" <<'EOF'
{"sku":"TS-001-RED-M","family":"tshirt","parent":"TS-001","categories":["men_tshirts"],"enabled":true,
 "values":{
   "name":[{"locale":"en_US","channel":null,"data":"Organic tee"},
           {"locale":"fr_FR","channel":null,"data":"T-shirt bio"}],
   "price":[{"locale":null,"channel":"web","data":[{"amount":"19.90","currency":"EUR"}]}],
   "size":[{"locale":null,"channel":null,"data":"m"}],
   "images":[{"locale":null,"channel":null,"data":["sha256:9f86d0"]}]},
 "associations":{"cross_sell":{"products":["CAP-010"]}}}
EOF
check "DESIGN.md product example" validate product "$TMP/design-product.json"
echo '{"version":3}' >"$TMP/revert.json"; check "revert document" validate revert "$TMP/revert.json"
echo '{"name":"shop","role":"reader"}' >"$TMP/token.json"; check "token document" validate token "$TMP/token.json"
echo '{"enabled":false,"values":{"description":null}}' >"$TMP/patch.json"; check "merge patch document" validate patch "$TMP/patch.json"

# documents the schemas refuse
cat >"$TMP/bad-products.ndjson" <<'EOF'
{"sku":"X","family":"home","values":{"price":[{"locale":null,"channel":null,"data":[{"amount":12.5,"currency":"EUR"}]}]}}
{"sku":"X/1","family":"home"}
{"sku":"X","family":"home","colour":"red"}
{"family":"home"}
EOF
check "bad products are refused by product.schema.json" validate product "$TMP/bad-products.ndjson" invalid
echo '[{"code":"x","type":"color"},{"code":"s","type":"simple_select"}]' >"$TMP/bad-attrs.json"
check "bad attributes are refused" validate attribute "$TMP/bad-attrs.json" invalid

# what pimd accepts and returns matches too
start_pimd
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary @"$SCHEMAS/demo/products.jsonl"
check "demo catalog loads without an error" is "$(jq -s '[.[]|select(.status>=300)]|length' "$TMP/body")" 0
check "every demo line created" is "$(grep -c '"outcome":"created"' "$TMP/body")" "$(grep -c . "$SCHEMAS/demo/products.jsonl")"
req GET "$PIM/v1/products?limit=1000"; jq '.items' "$TMP/body" >"$TMP/stored.json"
check "stored products match product.schema.json" validate product "$TMP/stored.json"
for kind in "${!kind_schema[@]}"; do
	req GET "$PIM/v1/$kind"; jq '.items' "$TMP/body" >"$TMP/served.json"
	check "served $kind match" validate "${kind_schema[$kind]}" "$TMP/served.json"
done
req GET "$PIM/v1/channels/app/products/TS-001-RED-M?locale=fr_FR"; check "demo variant published on app" code_is 200
check "with its French name" is "$(jqb .name)" "T-shirt col rond en coton bio"
req GET "$PIM/v1/channels/web/products/SET-004?locale=de_DE"; check "pack published on web/de_DE" code_is 200
check "pack lists its products" is "$(jqb '.associations.pack|join(",")')" MUG-001,PLT-002
req GET "$PIM/v1/channels/web/products/DRAFT-900"; check "the demo draft is unpublished" code_is 404
