#!/usr/bin/env bash
# pimd batch upserts: NDJSON in, one status line per input line out, each
# line its own success or failure; modes, dry runs, bodies larger than one
# write transaction, and catalog.h's outcomes (created/updated/unchanged).
source "$(dirname "$0")/lib.sh"

start_pimd
post() { req POST "$PIM/v1/products/batch$1" -H 'Content-Type: application/x-ndjson' --data-binary @"$2"; }

cat >"$TMP/b1.ndjson" <<'EOF'
{"sku":"B-1","family":"home","values":{"name":[{"locale":"en_US","channel":null,"data":"Bath towel"}]}}
{"sku":"B-2","family":"home","values":{"price":[{"locale":null,"channel":null,"data":[{"amount":12.5,"currency":"EUR"}]}]}}

{"sku":"B-3","family":"home"
{"sku":"B-4","family":"nope"}
{"family":"home"}
{"sku":"B-1","family":"home","values":{"name":[{"locale":"en_US","channel":null,"data":"Bath towel"}]}}
{"sku":"B-5","family":"home","values":{"gtin":[{"locale":null,"channel":null,"data":"4006381333931"}]}}
{"sku":"B-6","family":"home","values":{"gtin":[{"locale":null,"channel":null,"data":"4006381333931"}]}}
EOF
post "" "$TMP/b1.ndjson"; check "batch: 200" code_is 200
check "NDJSON answer" is "$(header content-type)" application/x-ndjson
check "one line per non-blank input line" is "$(wc -l <"$TMP/body")" 8
st() { jq -r --argjson n "$1" "select(.line==\$n)|$2" "$TMP/body"; }
check "line 1 created" is "$(st 1 '.status|tostring')/$(st 1 .outcome)" 201/created
check "line 2: float price 422" is "$(st 2 '.status|tostring')/$(st 2 '.errors[0].code')" 422/not_a_decimal
check "line 2 names the pointer" is "$(st 2 '.errors[0].path')" /values/price/0/data/0/amount
check "line 4: broken JSON 400" is "$(st 4 '.status|tostring')/$(st 4 '.errors[0].code')" 400/bad_json
check "line 5: unknown family 422" is "$(st 5 '.errors[0].code')" unknown_family
check "line 6: no sku 422" is "$(st 6 '.status|tostring')/$(st 6 '.errors[0].path')" 422//sku
check "line 7: same document again unchanged" is "$(st 7 '.status|tostring')/$(st 7 .outcome)" 200/unchanged
check "line 8 created" is "$(st 8 .outcome)" created
check "line 9: unique against an earlier line of the same batch" is "$(st 9 '.errors[0].code')" not_unique
req GET "$PIM/v1/products/B-1"; check "B-1 stored" code_is 200
check "unchanged line made no new version" is "$(jqb .version)" 1
req GET "$PIM/v1/products/B-2"; check "failed line stored nothing" code_is 404

# modes
printf '%s\n' '{"sku":"B-1","family":"home","values":{}}' '{"sku":"B-9","family":"home","values":{}}' >"$TMP/b2.ndjson"
post "?mode=create" "$TMP/b2.ndjson"
check "create mode: existing sku 409" is "$(st 1 '.status|tostring')" 409
check "create mode: new sku 201" is "$(st 2 '.status|tostring')" 201
printf '%s\n' '{"sku":"B-1","family":"home","enabled":false,"values":{}}' '{"sku":"B-10","family":"home","values":{}}' >"$TMP/b3.ndjson"
post "?mode=update" "$TMP/b3.ndjson"
check "update mode: existing sku updated" is "$(st 1 '.status|tostring')/$(st 1 .outcome)" 200/updated
check "update mode: missing sku 404" is "$(st 2 '.status|tostring')" 404
post "?mode=merge" "$TMP/b3.ndjson"; check "unknown mode: 400" code_is 400

# dry run: validated, nothing written
printf '%s\n' '{"sku":"DRY-1","family":"home","values":{}}' '{"sku":"DRY-2","family":"nope"}' >"$TMP/b4.ndjson"
post "?dry_run=true" "$TMP/b4.ndjson"
check "dry run reports outcomes" is "$(st 1 .outcome),$(st 2 '.status|tostring')" created,422
req GET "$PIM/v1/products/DRY-1"; check "dry run wrote nothing" code_is 404
post "?dry_run=ture" "$TMP/b4.ndjson"; check "misspelt dry_run: 400, not a real run" code_is 400
check "misspelt dry_run: the message names it, as an import's does" \
	bash -c "jq -r .detail '$TMP/body' | grep -q \"^dry_run 'ture' is not a boolean\""
post "?dry_run=TRUE" "$TMP/b4.ndjson"; check "dry_run=TRUE is a dry run" is "$(st 1 .outcome)" created
req GET "$PIM/v1/products/DRY-1"; check "dry_run=TRUE wrote nothing" code_is 404

# bigger than several transactions (250 lines each), no trailing newline
python3 -c '
import json
for i in range(2600):
    print(json.dumps({"sku":"BULK-%05d"%i,"family":"default","categories":["decor"],"values":{"name":[{"locale":"en_US","channel":None,"data":"Vase %d"%i}],"price":[{"locale":None,"channel":None,"data":[{"amount":"%d.00"%(i%90+10),"currency":"EUR"}]}]}}), end="\n" if i < 2599 else "")
' >"$TMP/bulk.ndjson"
post "" "$TMP/bulk.ndjson"; check "bulk: 200" code_is 200
check "bulk: 2600 created" is "$(grep -c '"outcome":"created"' "$TMP/body")" 2600
check "bulk: lines numbered to the end" is "$(tail -1 "$TMP/body" | jq -r '.line|tostring')" 2600
req GET "$PIM/v1/products?category=home&complete=web/en_US&limit=100"; check "bulk products indexed" is "$(jqb '.items|length')" 100
post "" "$TMP/bulk.ndjson"; check "bulk again: all unchanged" is "$(grep -c '"outcome":"unchanged"' "$TMP/body")" 2600
req GET "$PIM/v1/changes?since=0&limit=1000"; n1=$(jqb '.items|length')
sed 's/"Vase /"Tall vase /' "$TMP/bulk.ndjson" >"$TMP/bulk2.ndjson"
post "" "$TMP/bulk2.ndjson"; check "bulk update: all updated" is "$(grep -c '"outcome":"updated"' "$TMP/body")" 2600
req GET "$PIM/v1/products/BULK-02599"; check "updated version 2" is "$(jqb .version)" 2
req GET "$PIM/v1/products?q=tall&limit=1000"; check "search sees the batch's new names" is "$(jqb '.items|length')" 1000

# one request's chunks (250 lines) are prepared while the one before is
# written: they still write, and answer, in the order of the lines, also
# while another request's chunks contend for the writer
python3 -c '
import json
for i in range(4000):
    print(json.dumps({"sku": "OTHER-%04d" % i, "family": "home", "values": {}}))
' >"$TMP/other.ndjson"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-ndjson' \
	--data-binary @"$TMP/other.ndjson" "$PIM/v1/products/batch" &
other=$!
python3 -c '
import json
for i in range(4000):
    sku = "ORDER-%04d" % (i % 250)  # each sku once a chunk
    print(json.dumps({"sku": sku, "family": "home", "values": {"name": [{"locale": "en_US", "channel": None, "data": "Round %d" % (i // 250)}]}}))
' >"$TMP/order.ndjson"
post "" "$TMP/order.ndjson"; check "order: 200" code_is 200
check "order: answers in line order" is "$(jq -s '[.[].line] == [range(1;4001)]' "$TMP/body")" true
check "order: first round created, later ones updated" is \
	"$(jq -r '"\(.line > 250)/\(.outcome)"' "$TMP/body" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" \
	"250 false/created 3750 true/updated "
for sku in ORDER-0000 ORDER-0249; do
	req GET "$PIM/v1/products/$sku"
	check "order: $sku has the last line's values" is "$(jqb '.version|tostring')/$(jqb '.values.name[0].data')" "16/Round 15"
done
wait $other

# a line that never ends stops the upload after chunks already in flight;
# what was written before it stays, and pimd goes on
python3 -c '
import json
for i in range(600):
    print(json.dumps({"sku": "LONG-%04d" % i, "family": "home", "values": {}}))
print("{\"sku\":\"LONG-X\",\"x\":\"" + "a" * (17 << 20))
' >"$TMP/long.ndjson"
post "" "$TMP/long.ndjson"; check "long line after chunks: 413" code_is 413
check "long line after chunks: the problem names its line" bash -c "jq -r .detail '$TMP/body' | grep -q 'line 601 '"
req GET "$PIM/v1/products/LONG-0499"; check "long line after chunks: earlier chunks written" code_is 200
req GET "$PIM/healthz"; check "long line after chunks: still serving" code_is 200

# a client gone mid-upload, its chunks still in flight: what was received
# in whole chunks is written, and pimd goes on
python3 -c '
import json
for i in range(40000):
    print(json.dumps({"sku": "GONE-%05d" % i, "family": "home", "values": {}}))
' >"$TMP/gone.ndjson"
curl -s -o /dev/null -m 1 --limit-rate 400k -X POST -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/gone.ndjson" "$PIM/v1/products/batch"
check "client gone: cut short" is "$?" 28
sleep 0.5
req GET "$PIM/v1/products/GONE-00000"; check "client gone: its first chunk written" code_is 200
req GET "$PIM/v1/products/GONE-39999"; check "client gone: what never came is not" code_is 404
req GET "$PIM/healthz"; check "client gone: still serving" code_is 200

# index entries of lines in no particular order, sharing words, all found
python3 -c '
import json, random
random.seed(7)
words = ["oak", "ash", "elm", "teak", "pine"]
skus = ["MIX-%04d" % i for i in range(700)]
random.shuffle(skus)
for s in skus:
    n = int(s[4:])
    name = " ".join(w for i, w in enumerate(words) if n % (i + 2) == 0) or "plain"
    print(json.dumps({"sku": s, "family": "home", "categories": ["decor"] if n % 3 else ["home"],
                      "values": {"name": [{"locale": "en_US", "channel": None, "data": name + " stool"}]}}))
' >"$TMP/mix.ndjson"
post "" "$TMP/mix.ndjson"; check "mixed order: 700 created" is "$(grep -c '"outcome":"created"' "$TMP/body")" 700
for i in 0 1 2 3 4; do
	w=$(echo oak ash elm teak pine | cut -d' ' -f$((i + 1)))
	want=$(python3 -c "print(sum(1 for n in range(700) if n % ($i + 2) == 0))")
	req GET "$PIM/v1/products?q=$w&limit=1000"
	check "mixed order: q=$w finds each product once" is "$(jqb '[.items[].sku]|unique|length')/$(jqb '.items|length')" "$want/$want"
done
req GET "$PIM/v1/products?category=decor&q=stool&limit=1000"
check "mixed order: category and word" is "$(jqb '.items|length')" "$(python3 -c 'print(sum(1 for n in range(700) if n % 3))')"

# one product written several times in a transaction: its last words count
for w in gamma delta gamma epsilon; do
	printf '{"sku":"TWICE-1","family":"home","values":{"name":[{"locale":"en_US","channel":null,"data":"%s chair"}]}}\n' "$w"
done >"$TMP/twice.ndjson"
printf '{"sku":"TWICE-2","family":"home","values":{"name":[{"locale":"en_US","channel":null,"data":"%s chair"}]}}\n' delta gamma >>"$TMP/twice.ndjson"
post "" "$TMP/twice.ndjson"
q() { req GET "$PIM/v1/products?q=$1&limit=10"; jqb '[.items[].sku]|join(",")'; }
check "rewritten in one batch: the words of its last version" is "$(q gamma)/$(q epsilon)/$(q delta)" "TWICE-2/TWICE-1/"

# a batch line is stored, indexed and recorded as a PUT of the same document
doc='{"family":"home","categories":["decor"],"enabled":true,"values":{"name":[{"locale":"en_US","channel":null,"data":"Linen throw"}],"price":[{"locale":null,"channel":null,"data":[{"amount":"39.00","currency":"EUR"}]}],"gtin":[{"locale":null,"channel":null,"data":"4006381333900"}]}}'
jq -c '.sku="SAME-B"' <<<"$doc" >"$TMP/same.ndjson"
sleep 1.1; since=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ --date='-0.1 seconds')
post "" "$TMP/same.ndjson"; check "same: batch line created" is "$(st 1 .outcome)" created
reqj PUT "$PIM/v1/products/SAME-P" "$(jq -c '.sku="SAME-P" | .values.gtin[0].data="4006381333917"' <<<"$doc")"
check "same: PUT created" code_is 201
same() { jq -cS 'del(.sku,.created,.updated,.values.gtin)' "$TMP/body"; }
req GET "$PIM/v1/products/SAME-B"; b=$(same)
req GET "$PIM/v1/products/SAME-P"; p=$(same)
check "same: stored documents alike" is "$b" "$p"
check "same: completeness computed" is "$(jq -r '.completeness|length>0' <<<"$b")" true
req GET "$PIM/v1/products/SAME-B/history"; b=$(jq -c '[.items[0].changes[]|select(.path!="/values/gtin")]' "$TMP/body")
req GET "$PIM/v1/products/SAME-P/history"; p=$(jq -c '[.items[0].changes[]|select(.path!="/values/gtin")]' "$TMP/body")
check "same: history entries alike" is "$b" "$p"
check "same: history lists the new values" is "$(jq -r 'map(.path)|index("/values/name")!=null' <<<"$b")" true
for f in "q=linen" "updated_since=$since" "family=home&category=decor&q=throw" "q=same-b"; do
	req GET "$PIM/v1/products?$f&limit=100"
	check "same: $f finds the batch's product" is "$(jqb '[.items[].sku]|index("SAME-B")!=null')" true
done
printf '%s\n' '{"sku":"SAME-C","family":"home","values":{"gtin":[{"locale":null,"channel":null,"data":"4006381333900"}]}}' >"$TMP/same2.ndjson"
post "" "$TMP/same2.ndjson"; check "same: the batch line's unique value is indexed" is "$(st 1 '.errors[0].code')" not_unique

# one line longer than the 16 MiB per-document cap is refused, nothing hangs
python3 -c 'print("{\"sku\":\"HUGE\",\"x\":\"" + "a"*(17<<20) + "\"}")' >"$TMP/huge.ndjson"
post "" "$TMP/huge.ndjson"; check "line over 16 MiB: 413" code_is 413
req GET "$PIM/healthz"; check "still serving" code_is 200
AS_TOKEN= post "" "$TMP/b4.ndjson"; check "batch needs a token" code_is 401

# A first load in sku order fills LMDB's pages: 400 products of about
# 1.6 KB (two to a 4 KiB page) take about 200 pages of "products", not the
# 400 that splitting every full page in half would leave.
pages() { curl -fsS "$PIM/metrics" | awk -v db="pimd_lmdb_pages{db=\"$1\"}" '$1 == db {print $2}'; }
before=$(pages products)
python3 -c '
text = "Woven from long-staple cotton, " * 27
for i in range(400):
    print("{\"sku\":\"zz-page-%04d\",\"family\":\"home\",\"values\":{\"description\":[{\"locale\":\"en_US\",\"channel\":\"web\",\"data\":\"%s\"}]}}" % (i, text))
' >"$TMP/ordered.ndjson"
post "" "$TMP/ordered.ndjson"
check "ordered load: every line created" is "$(jq -r .outcome "$TMP/body" | sort | uniq -c | awk '{print $1, $2}')" "400 created"
after=$(pages products)
check "/metrics gives pages per database" bash -c "[ -n '$after' ] && [ -n '$(pages ix_token)' ]"
check "ordered load: two products a page (added $((after - before)) pages)" bash -c "[ $((after - before)) -ge 190 ] && [ $((after - before)) -le 230 ]"
