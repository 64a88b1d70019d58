#!/usr/bin/env bash
# Loads the demo catalog into running daemons: the products of
# schemas/demo/products.jsonl through POST /v1/products/batch, a colourful
# swatch image per product drawn with the vips CLI, uploaded to damd and
# linked to its product (the family's image attribute, and the asset's SKUs).
# Run again, it changes nothing: upserts, same bytes, same links.
# Environment: PIM, DAM (base URLs), PIM_TOKEN, DAM_TOKEN (admin tokens).
set -u
cd "$(dirname "$0")/.."
PIM=${PIM:-http://127.0.0.1:8080}
DAM=${DAM:-http://127.0.0.1:8081}
PIM_TOKEN=${PIM_TOKEN:-${PIM_ADMIN_TOKEN:-}}
DAM_TOKEN=${DAM_TOKEN:-$PIM_TOKEN}
CATALOG=${DEMO_CATALOG:-schemas/demo/products.jsonl}
MAX_IMAGES=${DEMO_IMAGES:-24}

say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

for tool in curl python3 vips vipsheader; do
	command -v $tool >/dev/null 2>&1 || die "needs '$tool' (scripts/deps.sh test installs it)"
done
[ -n "$PIM_TOKEN" ] || die "no admin token: set PIM_TOKEN (or PIM_ADMIN_TOKEN)"
[ -f "$CATALOG" ] || die "no demo catalog at $CATALOG"
curl -fsS -m 5 -o /dev/null "$PIM/healthz" || die "pimd does not answer at $PIM"
curl -fsS -m 5 -o /dev/null "$DAM/healthz" || die "damd does not answer at $DAM"

work=$(mktemp -d /tmp/hub-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

# 1. Products: one batch, one status line per product.
code=$(curl -sS -m 120 -o "$work/batch.out" -w '%{http_code}' -X POST "$PIM/v1/products/batch" \
	-H "Authorization: Bearer $PIM_TOKEN" -H 'Content-Type: application/x-ndjson' \
	--data-binary @"$CATALOG") || code=000
case $code in
2??) ;;
*) echo "demo: POST /v1/products/batch gave HTTP $code:" >&2; head -c 600 "$work/batch.out" >&2; echo >&2; exit 1 ;;
esac
python3 - "$work/batch.out" <<'PY' || failures=$((failures + 1))
import json, sys
ok = bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.strip()
    if not line:
        continue
    try:
        r = json.loads(line)
    except ValueError:
        print(f"demo: batch answer line {n} is not JSON: {line[:200]}", file=sys.stderr)
        bad += 1
        continue
    st = r.get("status")
    if (isinstance(st, int) and st < 300) or st in ("created", "updated", "unchanged", "ok") or (st is None and not r.get("errors")):
        ok += 1
    else:
        bad += 1
        errs = "; ".join(f"{e.get('path', '')} {e.get('message', e.get('code', ''))}" for e in r.get("errors", []) or [])
        print(f"demo: product {r.get('sku', '#%d' % n)}: {st} {r.get('detail', '')} {errs}", file=sys.stderr)
print(f"demo: {ok} products loaded" + (f", {bad} refused" if bad else ""))
sys.exit(1 if bad else 0)
PY

# 2. Which products get a picture, and where it goes, for the first
#    MAX_IMAGES products: "sku<TAB>image attribute<TAB>label<TAB>sku as a
#    URL path segment<TAB>sku as JSON<TAB>label as JSON".
curl -fsS -m 10 -H "Authorization: Bearer $PIM_TOKEN" -o "$work/families.json" "$PIM/v1/families?limit=1000" ||
	echo '[]' >"$work/families.json"
python3 - "$CATALOG" "$work/families.json" "$MAX_IMAGES" >"$work/plan.tsv" <<'PY'
import json, sys, urllib.parse
fams = json.load(open(sys.argv[2], encoding="utf-8"))
fams = fams if isinstance(fams, list) else fams.get("items", [])
img = {f.get("code"): f.get("image_attribute") for f in fams}
lab = {f.get("code"): f.get("label_attribute") or "name" for f in fams}
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip() or n >= int(sys.argv[3]):
        continue
    p = json.loads(line)
    attr = img.get(p.get("family"))
    if not attr or p.get("parent"):
        continue  # variants show their parent's images
    vals = (p.get("values") or {}).get(lab.get(p.get("family"), "name")) or []
    names = [v["data"] for v in vals if isinstance(v.get("data"), str)]
    en = [v["data"] for v in vals if isinstance(v.get("data"), str) and (v.get("locale") or "").startswith("en")]
    label = (en or names or [p["sku"]])[0].replace("\t", " ").replace("\n", " ")
    sku = p["sku"]
    print("\t".join([sku, attr, label, urllib.parse.quote(sku, safe=""),
                     json.dumps(sku, ensure_ascii=False), json.dumps(label, ensure_ascii=False)]))
    n += 1
PY
[ -s "$work/plan.tsv" ] || say "no product family names an image attribute: no images made"

# The swatches' shared layers: a diagonal shading factor and plain white.
base="$work/base"; mkdir -p "$base"
vips xyz "$base/xy.v" 800 800 && vips bandmean "$base/xy.v" "$base/m.v" &&
	vips linear "$base/m.v" "$base/f.v" -- -0.0006 1.15 &&
	vips black "$base/bg.v" 800 800 --bands 3 &&
	vips linear "$base/bg.v" "$base/white.v" "1 1 1" "255 255 255" --uchar ||
	die "the vips CLI cannot draw images"

# swatch SKU LABEL INDEX OUT: a 800x800 JPEG, a diagonal gradient in one of
# eight colours with the product's name and SKU written on it.
swatch() {
	local sku=$1 label=$2 i=$3 out=$4 d="$work/v$3"
	local colours=("47 91 211" "25 169 116" "231 111 81" "142 68 173" "243 156 18" "22 160 190" "214 48 49" "99 110 114")
	local esc='s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'
	mkdir -p "$d"
	vips linear "$base/f.v" "$d/g.v" "${colours[$((i % 8))]}" "0 0 0" --uchar &&
		vips text "$d/t.v" "<span size=\"x-large\"><b>$(printf '%s' "$label" | sed "$esc")</b></span>
<tt>$(printf '%s' "$sku" | sed "$esc")</tt>" --width 680 --dpi 150 --font "sans 16" --align centre &&
		vips gravity "$d/t.v" "$d/t2.v" centre 800 800 &&
		vips ifthenelse "$d/t2.v" "$base/white.v" "$d/g.v" "$out[Q=88,strip]" --blend
	local rc=$?
	rm -rf "$d"
	return $rc
}

# Draw every image first, as many at once as there are cores.
i=0; jobs_max=$(nproc 2>/dev/null || echo 2)
while IFS=$'\t' read -r sku attr label _; do
	swatch "$sku" "$label" $i "$work/img$i.jpg" 2>"$work/vips$i.err" &
	i=$((i + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
done <"$work/plan.tsv"
wait

# Then upload each, describe it and link it to its product.
i=-1; linked=0
while IFS=$'\t' read -r sku attr label sku_path sku_json label_json; do
	i=$((i + 1))
	img="$work/${sku//\//_}_1.jpg"
	if [ ! -s "$work/img$i.jpg" ] || ! mv "$work/img$i.jpg" "$img"; then
		echo "demo: cannot draw the image of $sku: $(head -c 300 "$work/vips$i.err")" >&2
		failures=$((failures + 1)); continue
	fi
	code=$(curl -sS -m 60 -o "$work/up.json" -w '%{http_code}' -X POST "$DAM/v1/assets" \
		-H "Authorization: Bearer $DAM_TOKEN" -H "X-Filename: $(basename "$img")" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$img") || code=000
	case $code in 200|201) ;; *)
		echo "demo: upload of the image of $sku gave HTTP $code: $(head -c 300 "$work/up.json")" >&2
		failures=$((failures + 1)); continue ;;
	esac
	id=$(sed -nE 's/.*"id" *: *"(sha256:[0-9a-f]{64})".*/\1/p' "$work/up.json")
	[ -n "$id" ] || { echo "demo: upload answer for $sku has no id" >&2; failures=$((failures + 1)); continue; }
	meta="{\"skus\":[$sku_json],\"tags\":[\"demo\"],\"alt\":{\"en_US\":$label_json},\"title\":$label_json}"
	code=$(curl -sS -m 10 -o "$work/meta.json" -w '%{http_code}' -X PATCH "$DAM/v1/assets/$id/meta" \
		-H "Authorization: Bearer $DAM_TOKEN" -H 'Content-Type: application/merge-patch+json' --data-binary "$meta") || code=000
	case $code in 2??) ;; *) echo "demo: metadata of $sku's image gave HTTP $code: $(head -c 300 "$work/meta.json")" >&2
		failures=$((failures + 1)) ;; esac
	patch="{\"values\":{\"$attr\":[{\"locale\":null,\"channel\":null,\"data\":[\"$id\"]}]}}"
	code=$(curl -sS -m 10 -o "$work/patch.json" -w '%{http_code}' -X PATCH "$PIM/v1/products/$sku_path" \
		-H "Authorization: Bearer $PIM_TOKEN" -H 'Content-Type: application/merge-patch+json' --data-binary "$patch") || code=000
	case $code in 2??) linked=$((linked + 1)) ;; *)
		echo "demo: linking the image to $sku gave HTTP $code: $(head -c 300 "$work/patch.json")" >&2
		failures=$((failures + 1)) ;; esac
done <"$work/plan.tsv"
say "$linked product images drawn, uploaded and linked"
[ $failures = 0 ] || die "$failures steps failed (see above)"
