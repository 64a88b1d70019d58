#!/usr/bin/env bash
# pimd listing and search: every filter of DESIGN.md (family, category with
# its subtree, enabled, updated_since, complete, q with accent and case
# folding), combined; opaque cursors over several pages in stable sku order.
source "$(dirname "$0")/lib.sh"

start_pimd

# 25 products: home mugs in tableware (kitchen → home), apparel tees in men_tshirts
python3 - >"$TMP/load.ndjson" <<'PY'
import json
for i in range(25):
    home = i % 2 == 0
    d = {"sku": "S-%02d" % i, "family": "home" if home else "default",
         "categories": ["tableware" if home else "men_tshirts"], "enabled": i % 5 != 0,
         "values": {"name": [{"locale": "en_US", "channel": None,
                              "data": ("Café crème mug %d" % i) if home else ("Plain Tee %d" % i)}]}}
    if i % 3 != 0:
        d["values"]["price"] = [{"locale": None, "channel": None, "data": [{"amount": "9.99", "currency": "EUR"}]}]
    print(json.dumps(d, ensure_ascii=False))
PY
req POST "$PIM/v1/products/batch" -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/load.ndjson"
check "loaded 25" is "$(grep -c '"status":201' "$TMP/body")" 25

list() { req GET "$PIM/v1/products?$1"; jqb '[.items[].sku]|join(",")'; }
skus_where() { # skus_where ARITHMETIC-ON-i: the loaded skus it holds for, joined
	local i s out=""
	for ((i = 0; i < 25; i++)); do
		(($1)) || continue
		printf -v s 'S-%02d' $i
		out+="${out:+,}$s"
	done
	echo "$out"
}
expect() { # expect QUERY ARITHMETIC-ON-i DESCRIPTION
	check "$3" is "$(list "$1&limit=100")" "$(skus_where "$2")"
}
expect "" "1" "no filter: all, in sku order"
expect "family=home" "i%2==0" "family"
expect "category=tableware" "i%2==0" "category"
expect "category=home" "i%2==0" "category subtree (home ⊃ kitchen ⊃ tableware)"
expect "category=apparel" "i%2==1" "category subtree (apparel ⊃ men ⊃ men_tshirts)"
expect "enabled=false" "i%5==0" "enabled=false"
expect "enabled=true" "i%5!=0" "enabled=true"
expect "enabled=FALSE" "i%5==0" "enabled=FALSE (any case)"
req GET "$PIM/v1/products?enabled=maybe"; check "enabled=maybe: 400, not a filter on disabled" code_is 400
req GET "$PIM/v1/products?complete=web"; check "complete without a locale: 400" code_is 400
req GET "$PIM/v1/products?complete=nochan/en_US"; check "complete on an unknown channel: 400" code_is 400
req GET "$PIM/v1/products?complete=app/de_DE"; check "complete in a locale the channel lacks: 400" code_is 400
expect "complete=web/en_US" "i%3!=0" "complete=web/en_US"
expect "complete=web/fr_FR" "0" "nothing complete in fr_FR (no French names)"
expect "family=home&enabled=true&complete=web/en_US" "i%2==0 && i%5!=0 && i%3!=0" "family + enabled + complete"
expect "family=home&category=kitchen&complete=web/en_US" "i%2==0 && i%3!=0" "family + category + completeness"
expect "q=CAFE" "i%2==0" "q=CAFE matches Café (accent and case folded)"
expect "q=cr%C3%88ME" "i%2==0" "q=crÈME folded too"
expect "q=tee&family=default" "i%2==1" "q + family"
expect "q=mug%204" "i==4" "two words: both must match"
expect "q=s-07" "i==7" "q matches the sku"
expect "q=nothing-like-it" "0" "no match: empty"

# updated_since
sleep 1.1
reqj PATCH "$PIM/v1/products/S-07" '{"values":{"brand":[{"locale":null,"channel":null,"data":"Maison"}]}}'
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ --date='-0.5 seconds')
expect "updated_since=$now" "i==7" "updated_since alone"
expect "updated_since=$now&family=default" "i==7" "updated_since with a family"
expect "updated_since=2000-01-01T00:00:00Z&family=home" "i%2==0" "updated_since in the past"
req GET "$PIM/v1/products?updated_since=yesterday"; check "bad updated_since: 400" code_is 400

# an edit moves the product's words: repeated ones once, the old ones gone
reqj PATCH "$PIM/v1/products/S-03" '{"values":{"name":[{"locale":"en_US","channel":null,"data":"Linen linen LINEN shirt"}]}}'
expect "q=linen" "i==3" "an edit's new word finds it, written three times"
expect "q=tee&family=default" "i%2==1 && i!=3" "its old word no longer does"
reqj PATCH "$PIM/v1/products/S-03" '{"values":{"name":[{"locale":"en_US","channel":null,"data":"Plain Tee 3"}]}}'
expect "q=linen" "0" "edited back: the repeated word is gone"
expect "q=tee&family=default" "i%2==1" "and the old one is back"
# a product's first 256 distinct words are found, however often each repeats
long=$(printf 'soft %.0s' $(seq 300))
reqj PATCH "$PIM/v1/products/S-05" "{\"values\":{\"description\":[{\"locale\":\"en_US\",\"channel\":null,\"data\":\"${long}zebrawood\"}]}}"
check "a description of 300 words: 200" code_is 200
expect "q=zebrawood" "i==5" "a word after 300 repeats of another is found"

# pagination: several pages, each page's cursor continues where it stopped
all=""; cursor=""; pages=0
while :; do
	req GET "$PIM/v1/products?limit=7${cursor:+&cursor=$cursor}"
	[ "$CODE" = 200 ] || break
	all="$all$(jqb '[.items[].sku]|join(",")'),"; pages=$((pages + 1))
	cursor=$(jqb '.next_cursor // empty'); [ -n "$cursor" ] || break
	[ $pages -lt 10 ] || break
done
check "4 pages of 7" is "$pages" 4
check "pages cover everything once, in order" is "${all%,}" "$(skus_where 1)"
req GET "$PIM/v1/products?limit=7"; check "next_cursor is opaque (not the sku)" bash -c "[ '$(jqb .next_cursor)' != S-06 ]"
req GET "$PIM/v1/products?limit=25"; check "last page: next_cursor null" is "$(jqb .next_cursor)" null
req GET "$PIM/v1/products?limit=7&cursor=garbage"; check "a made-up cursor: 400, not an empty page" code_is 400
req GET "$PIM/v1/products?limit=7&cursor=$(printf S-06 | base64 | tr '+/' '-_' | tr -d '=')"
check "the base64 of a sku is not a cursor: 400" code_is 400
reqj PATCH "$PIM/v1/products/S-01" '{"categories":[]}'; reqj PATCH "$PIM/v1/products/S-01" '{"categories":[]}'
req GET "$PIM/v1/products/S-01/history?limit=1"; hcur=$(jqb .next_cursor)
check "a history cursor" bash -c "[ '$hcur' != null ]"
req GET "$PIM/v1/products?limit=7&cursor=$hcur"; check "a history cursor on the product list: 400" code_is 400
# a page through a filtered listing
req GET "$PIM/v1/products?family=home&limit=5"; c1=$(jqb .next_cursor); p1=$(jqb '[.items[].sku]|join(",")')
req GET "$PIM/v1/products?family=home&limit=5&cursor=$c1"; p2=$(jqb '[.items[].sku]|join(",")')
check "filtered page 1" is "$p1" "S-00,S-02,S-04,S-06,S-08"
check "filtered page 2" is "$p2" "S-10,S-12,S-14,S-16,S-18"
# the cursor is stable while products are added before and after it
reqj PUT "$PIM/v1/products/S-00a" '{"sku":"S-00a","family":"home","values":{}}'
req GET "$PIM/v1/products?family=home&limit=5&cursor=$c1"
check "stable order: an insert before the cursor does not shift the next page" is "$(jqb '[.items[].sku]|join(",")')" "$p2"
req GET "$PIM/v1/products?cursor=!!notacursor"; check "bad cursor: 400" code_is 400
req GET "$PIM/v1/products?limit=0"; check "limit out of range: 400" code_is 400

# channel listing: only what is published there
req GET "$PIM/v1/channels/web/products?locale=en_US&limit=100"
expect_c=$(skus_where "i%3!=0 && i%5!=0")
check "channel listing: enabled and complete only" is "$(jqb '[.items[].sku]|join(",")')" "$expect_c"
req GET "$PIM/v1/channels/web/products?locale=en_US&category=kitchen&q=cafe&limit=2"
check "channel listing with category + q, paged" is "$(jqb '[.items[].sku]|join(",")')" "S-02,S-04"
check "channel listing has a cursor" bash -c "[ '$(jqb .next_cursor)' != null ]"

# moving a category re-indexes its products under the new ancestors
reqj PUT "$PIM/v1/categories/tableware" '{"parent":"decor"}'; check "move tableware under decor" code_is 200
expect "category=kitchen&family=home" "0" "moved products left the old subtree"
expect "category=decor&family=home" "i%2==0" "and joined the new one"
req DELETE "$PIM/v1/categories/men_tshirts"; check "category still used by products: 409" code_is 409
