#!/usr/bin/env bash
# A CSV import mapped on two lanes (--import-lanes 2) ends exactly as one
# mapped on the import's own thread (--import-lanes 1): the same counts,
# the same errors in file order, the same products. The file spans three
# of a lane's chunks (2,000 rows), with what crosses them: a sku written
# twice, variants of a parent from an earlier chunk, siblings that clash,
# bad rows, an NFD sku, a blank line and a column nobody knows; then the
# catalog's JSON lines export read back.
source "$(dirname "$0")/lib.sh"

PIM_DATA=$TMP/pim-lanes start_pimd --import-lanes 2
LANES=$PIM
PIM_DATA=$TMP/pim-serial start_pimd --import-lanes 1
SERIAL=$PIM

python3 - "$TMP/big.csv" <<'EOF'
import sys
rows = ["sku,family,parent,name-en_US,price-EUR,size,gender,mystery_column",
        "PARENT-A,apparel_size,,Parent A,,,unisex,x"]
for i in range(1, 5001):
    sku, fam, parent, name, price, size, gender = f"L-{i:05d}", "default", "", f"Name {i}", f"{i}.50", "", "female"
    if i % 1000 == 700:
        price = "12,5O"
    if i in (5, 4600):
        sku, name = "DUP-1", "first" if i == 5 else "second"
    if i in (1500, 3000, 4200):
        sku = {1500: "CHILD-S", 3000: "CHILD-M", 4200: "CHILD-S2"}[i]
        fam, parent, name, price, gender = "apparel_size", "PARENT-A", "", "", ""
        size = "M" if i == 3000 else "S"
    if i == 2000:
        sku = "Cafe\u0301-1"
    if i == 2500:
        gender = "nobody"
    if i == 1001:
        rows.append("")
        continue
    rows.append(",".join([sku, fam, parent, name, price, size, gender, ""]))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
EOF

# both imports, then their reports side by side
both() {
	local query=$1 name
	for name in LANES SERIAL; do
		PIM=${!name} import_job "$TMP/big.csv" "$query"
		jq -S '{status, rows, created, updated, unchanged, failed, errors}' "$TMP/body" >"$TMP/report.$name"
	done
}
report() { jq -r "$1" "$TMP/report.LANES"; }

both 'format=csv'
check "lanes: the import is done" is "$(report .status)" done
check "lanes: 5,000 rows: 4,993 written (one sku twice), 7 failed" \
	is "$(report '"\(.rows) \(.created) \(.updated) \(.failed)"')" "5000 4992 1 7"
check "lanes: the same report as one thread, errors in file order" \
	cmp -s "$TMP/report.LANES" "$TMP/report.SERIAL"
check "lanes: failed rows by line" is "$(report '[.errors[] | select(.field != "mystery_column" and .code != "sku_normalized") | .line] | unique | join(",")')" \
	"702,1702,2502,2702,3702,4202,4702"
check "lanes: the unknown column said once" is "$(report '[.errors[] | select(.field == "mystery_column")] | length')" 1
check "lanes: the NFD sku said once" is "$(report '[.errors[] | select(.code == "sku_normalized")] | length')" 1
PIM=$LANES req GET "$LANES/v1/products/DUP-1"
check "lanes: a sku written twice keeps its later row" is "$(jqb '.values.name[0].data') $(jqb .version)" "second 2"
PIM=$LANES req GET "$LANES/v1/products/CHILD-M"
check "lanes: a variant under a parent from an earlier chunk" is "$(jqb .parent) $(jqb .family)" "PARENT-A apparel_size"
PIM=$LANES req GET "$LANES/v1/products/CHILD-S2"
check "lanes: a sibling clashing with one from an earlier chunk is refused" code_is 404
PIM=$LANES req GET "$LANES/v1/products/Caf%C3%A9-1"
check "lanes: the NFD sku is stored in NFC" code_is 200

# the stores hold the same products
for name in LANES SERIAL; do
	PIM=${!name} req GET "${!name}/v1/exports/products.jsonl"
	jq -cS 'del(.created, .updated)' "$TMP/body" | sort >"$TMP/export.$name"
done
check "lanes: 4,992 products" is "$(wc -l <"$TMP/export.LANES")" 4992
check "lanes: the same products as one thread" cmp -s "$TMP/export.LANES" "$TMP/export.SERIAL"

# JSON lines too: the export, read back over the same products
PIM=$LANES req GET "$LANES/v1/exports/products.jsonl"
cp "$TMP/body" "$TMP/export.jsonl"
for name in LANES SERIAL; do
	PIM=${!name} import_job "$TMP/export.jsonl" 'format=jsonl'
	jq -S '{status, rows, created, updated, unchanged, failed, errors}' "$TMP/body" >"$TMP/report.$name"
done
check "lanes, JSON lines: the export reads back unchanged" \
	is "$(report '"\(.rows) \(.unchanged) \(.failed)"')" "4992 4992 0"
check "lanes, JSON lines: the same report as one thread" cmp -s "$TMP/report.LANES" "$TMP/report.SERIAL"

# again: every product exists, so no row is prepared ahead as a new one
both 'format=csv'
check "lanes again: only the sku written twice changes (and back)" \
	is "$(report '"\(.created) \(.updated) \(.unchanged)"')" "0 2 4991"
check "lanes again: the same report as one thread" cmp -s "$TMP/report.LANES" "$TMP/report.SERIAL"
both 'format=csv&mode=create'
check "lanes, mode create: each row refused" is "$(report '"\(.created) \(.failed)"')" "0 5000"
check "lanes, mode create: the same report as one thread" cmp -s "$TMP/report.LANES" "$TMP/report.SERIAL"

# a dry run on lanes checks every row and writes none
sed 's/^L-/DRY-/' "$TMP/big.csv" >"$TMP/dry.csv"
PIM=$LANES import_job "$TMP/dry.csv" 'format=csv&dry_run=true'
check "lanes, dry run: new rows counted" bash -c "[ $(jqb .created) -ge 4900 ]"
PIM=$LANES req GET "$LANES/v1/products/DRY-00001"
check "lanes, dry run: nothing written" code_is 404

finish
