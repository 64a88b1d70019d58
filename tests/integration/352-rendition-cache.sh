#!/usr/bin/env bash
# Renditions answered from memory and from files kept open: the right bytes
# and headers on every repeat, Accept negotiation that never crosses
# formats, 304, HEAD and Range, a delete that takes effect at once, and the
# collector's removal of a blob closing damd's open file of it.
source "$(dirname "$0")/lib.sh"
start_damd --allow-unsigned --gc-grace 0 --gc-interval 1

up() { req POST "$DAM/v1/assets" -H "X-Filename: $(basename "$1")" --data-binary @"$1"; ID=$(jqb .id); }
blob() { local h=$1; echo "$DAM_DATA/blobs/${h:0:2}/${h:2:2}/$h"; }
# open_blobs: the blob files damd holds open, deleted ones marked so
open_blobs() { ls -l "/proc/$DAM_PID/fd" 2>/dev/null | grep -c "$DAM_DATA/blobs/${1:-}"; }
etag_hex() { header etag | tr -d '"'; }
# waits up to 15 s for a condition the collector brings about
eventually() { local i; for i in $(seq 150); do "$@" && return 0; sleep 0.1; done; return 1; }

up "$DATA/images/large_6720x4480_progressive.jpg"; BIG=$ID
up "$DATA/images/png-rgba.png"; RGBA=$ID

# -- the same bytes and headers, first render and every repeat after --
URL="$DAM/v1/renditions/$BIG?w=300&h=200&fit=cover&fmt=webp&q=70"
req GET "$URL"; cp "$TMP/body" "$TMP/first"; first=$(etag_hex)
check "rendered: 200" code_is 200
same=0
for i in 1 2 3 4 5 6; do
	req GET "$URL"
	[ "$CODE" = 200 ] && cmp -s "$TMP/body" "$TMP/first" && [ "$(etag_hex)" = "$first" ] &&
		[ "$(header content-type)" = image/webp ] &&
		[ "$(header cache-control)" = "public, max-age=31536000, immutable" ] &&
		[ "$(header access-control-allow-origin)" = "*" ] && [ -z "$(header vary)" ] &&
		same=$((same + 1))
done
check "six repeats: the same bytes and headers" is "$same" 6
check "the ETag is the hash of the bytes" is "$first" "$(sha256sum "$TMP/first" | cut -c1-64)"
check "the rendition's file is kept open" test "$(open_blobs "${first:0:2}/${first:2:2}/$first")" -ge 1

# -- many connections at once on a rendition kept open --
pids=()
for i in $(seq 16); do
	curl -s -o "$TMP/many$i" "$URL" &
	pids+=($!)
done
wait "${pids[@]}"
check "16 concurrent requests: every one the whole file" \
	is "$(sha256sum "$TMP"/many* | cut -c1-64 | sort -u | xargs)" "$first"

# -- 304, HEAD and Range on a cached rendition --
req GET "$URL" -H "If-None-Match: \"$first\""
check "If-None-Match: 304" code_is 304
check "304 carries the ETag" is "$(etag_hex)" "$first"
check "and the caching headers" is "$(header cache-control)" "public, max-age=31536000, immutable"
check "304 has no body" is "$(curl -s -o /dev/null -w '%{size_download}' -H "If-None-Match: \"$first\"" "$URL")" 0
req GET "$URL" -H 'If-None-Match: "0000"'
check "another ETag: 200 with the body" bash -c "[ $CODE = 200 ] && cmp -s '$TMP/body' '$TMP/first'"
curl -s -I "$URL" | tr -d '\r' >"$TMP/head"
check "HEAD: 200 with the length, no body" bash -c "grep -q '^HTTP/1.1 200' '$TMP/head' &&
	grep -qi '^content-length: $(wc -c <"$TMP/first")\$' '$TMP/head'"
code=$(curl -s -o "$TMP/part" -w '%{http_code}' -H 'Range: bytes=10-19' "$URL")
case $code in
200) check "Range: the whole file (a range is not honoured here)" cmp -s "$TMP/part" "$TMP/first" ;;
206) check "Range: the ten bytes asked for" cmp -s "$TMP/part" <(tail -c +11 "$TMP/first" | head -c 10) ;;
*) check "Range: 200 or 206" is "$code" 206 ;;
esac

# -- negotiation: one preset, one asset, each format to its own clients --
fmt_of() { req GET "$DAM/v1/renditions/$BIG/web-thumb" -H "Accept: $1"; echo "$(header content-type) $(header vary)"; }
bad=0
for round in 1 2 3; do
	for a in 'image/avif,image/webp,*/*:image/avif' 'image/webp,*/*:image/webp' '*/*:image/jpeg' \
		'image/avif;q=0,image/webp:image/webp'; do
		got=$(fmt_of "${a%:*}")
		[ "$got" = "${a##*:} Accept" ] || { echo "    # Accept ${a%:*}: $got" >&2; bad=$((bad + 1)); }
	done
done
check "Accept negotiation through the caches: every answer in its format" is "$bad" 0
req GET "$DAM/v1/renditions/$RGBA/web-thumb" -H 'Accept: image/jpeg,image/png'
check "alpha source without avif/webp: png" is "$(header content-type)" image/png
req GET "$DAM/v1/renditions/$RGBA/web-thumb" -H 'Accept: image/jpeg,image/png'
check "and again from the cache" is "$CODE $(header content-type)" "200 image/png"

# -- a delete takes effect at once; the collector closes the open file --
req GET "$DAM/v1/renditions/$RGBA?w=64&fmt=png"; rb=$(etag_hex)
req GET "$DAM/v1/renditions/$RGBA?w=64&fmt=png"
check "the rendition is served from the cache" code_is 200
check "its file is open" test "$(open_blobs "${rb:0:2}/${rb:2:2}/$rb")" -ge 1
req DELETE "$DAM/v1/assets/$RGBA"; check "delete" code_is 204
req GET "$DAM/v1/renditions/$RGBA?w=64&fmt=png"
check "deleted asset: its cached rendition is no longer served" bash -c "[ $CODE = 404 ] || [ $CODE = 410 ]"
req GET "$DAM/v1/renditions/$RGBA/web-thumb" -H 'Accept: image/jpeg,image/png'
check "nor any other of its renditions" bash -c "[ $CODE = 404 ] || [ $CODE = 410 ]"
check "the collector removes the rendition's blob" eventually test ! -e "$(blob "$rb")"
closed() { [ "$(open_blobs "${rb:0:2}/${rb:2:2}/$rb")" = 0 ]; }
check "and damd no longer holds it open" eventually closed
check "no deleted blob is held open" is "$(ls -l "/proc/$DAM_PID/fd" | grep "$DAM_DATA/blobs/" | grep -c '(deleted)')" 0
req GET "$URL"
check "the other asset's renditions are still served" bash -c "[ $CODE = 200 ] && cmp -s '$TMP/body' '$TMP/first'"

# -- the same bytes uploaded again render and serve again --
up "$DATA/images/png-rgba.png"
req GET "$DAM/v1/renditions/$RGBA?w=64&fmt=png"
check "uploaded again: the rendition is back" is "$CODE $(etag_hex)" "200 $rb"
req GET "$DAM/v1/renditions/$RGBA?w=64&fmt=png"
check "and served again from the cache" is "$CODE $(etag_hex)" "200 $rb"
