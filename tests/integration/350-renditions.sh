#!/usr/bin/env bash
# Renditions over HTTP: every preset and format, Accept negotiation and
# Vary, ETag/304, every image of the shared set (size and EXIF orientation
# of the output checked), CMYK to sRGB, PDF and SVG through the sandbox,
# signed ad-hoc parameters with key rotation and the --sign helper.
source "$(dirname "$0")/lib.sh"

KEYS="new:0123456789abcdef0123456789abcdef,old:fedcba9876543210fedcba9876543210"
DAM_DATA=$TMP/dam1 start_damd --allow-unsigned

# up FILE: uploads, sets ID
up() { req POST "$DAM/v1/assets" -H "X-Filename: $(basename "$1")" --data-binary @"$1"; ID=$(jqb .id); }
# get URL [curl args]: rendition into $TMP/r
get() { req GET "$@"; cp "$TMP/body" "$TMP/r"; }
# one vipsheader call: "WxH" and the loader that read it
info() { vipsheader "$TMP/r" 2>/dev/null | sed -nE 's/^.*: ([0-9]+x[0-9]+) .*, ([a-z0-9]+load)$/\1 \2/p'; }
dims() { info | cut -d' ' -f1; }
loader() { info | cut -d' ' -f2; }
metric() { curl -s "$DAM/metrics" | awk -v m="$1" '$1==m{print $2}'; }

# -- every image of the shared set: upright, inside the box, aspect kept --
n=0; bad=0
for f in "$DATA"/images/* "$DATA"/images/exif-orientation/*; do
	[ -f "$f" ] && [ "${f##*.}" != md ] || continue
	up "$f"
	sw=$(jqb .width); sh=$(jqb .height); so=$(jqb '.orientation // 1')
	case $so in 5|6|7|8) t=$sw; sw=$sh; sh=$t;; esac
	get "$DAM/v1/renditions/$ID?w=320&h=320&fit=inside&fmt=jpeg"
	d=$(dims); ow=${d%x*}; oh=${d#*x}
	if [ "$CODE" != 200 ] || [ -z "$ow" ] || [ "$ow" -gt 320 ] || [ "$oh" -gt 320 ]; then
		echo "    # $(basename "$f"): $CODE $d"; bad=$((bad + 1)); continue
	fi
	# upright aspect kept within rounding (inside never crops)
	if [ $(( (sw * oh - sh * ow) * (sw * oh - sh * ow) )) -gt $(( (sw + sh) * (sw + sh) * 4 )) ]; then
		echo "    # $(basename "$f"): source ${sw}x${sh} (orientation $so), rendition $d"; bad=$((bad + 1))
	fi
	n=$((n + 1))
done
check "every shared image renders upright within 320 px ($n)" is "$bad" 0
check "at least 30 images rendered" test "$n" -ge 30

stop_all
DAM_DATA=$TMP/dam start_damd --sign-keys "$KEYS"
up "$DATA/images/exif-orientation/Landscape_6.jpg"
get "$DAM/v1/renditions/$ID/web-large"
check "orientation 6 turned upright: 1200x800" is "$(dims)" 1200x800
up "$DATA/images/exif-orientation/Landscape_5.jpg"
get "$DAM/v1/renditions/$ID/web-thumb"
check "orientation 5 web-thumb: 200x200" is "$(dims)" 200x200

# -- CMYK: sRGB out, AVIF when accepted --
up "$DATA/images/jpeg-cmyk_with_profile.jpg"; CMYK=$ID
get "$DAM/v1/renditions/$CMYK/web-large" -H 'Accept: image/avif,image/webp,*/*'
check "avif when accepted" is "$(header content-type)" image/avif
check "the avif is an image" is "$(loader)" heifload
check "cmyk converted to srgb" bash -c "vipsheader -f interpretation '$TMP/r' | grep -qi srgb"
check "Vary: Accept on a negotiated preset" is "$(header vary)" Accept
check "immutable, as the contract has it" is "$(header cache-control)" "public, max-age=31536000, immutable"
etag=$(header etag)
check "ETag is the quoted hash of the derived blob" bash -c "[[ '$etag' =~ ^\\\"[0-9a-f]{64}\\\"$ ]]"
check "the ETag is the sha256 of the bytes" is "$etag" "\"$(sha256sum "$TMP/r" | cut -c1-64)\""
req GET "$DAM/v1/renditions/$CMYK/web-large" -H 'Accept: image/avif,image/webp,*/*' -H "If-None-Match: $etag"
check "If-None-Match: 304" code_is 304
get "$DAM/v1/renditions/$CMYK/web-large" -H 'Accept: image/webp'
check "webp when only webp is accepted" is "$(header content-type)" image/webp
get "$DAM/v1/renditions/$CMYK/web-large" -H 'Accept: image/avif;q=0,image/webp;q=0.8'
check "avif;q=0 is refused: webp" is "$(header content-type)" image/webp
get "$DAM/v1/renditions/$CMYK/web-large" -H 'Accept: */*'
check "wildcards only: jpeg" is "$(header content-type)" image/jpeg
check "the jpeg decodes" is "$(loader)" jpegload
up "$DATA/images/png-rgba.png"; RGBA=$ID
get "$DAM/v1/renditions/$RGBA/web-thumb" -H 'Accept: image/jpeg,image/png'
check "alpha source without avif/webp: png" is "$(header content-type)" image/png
check "png keeps alpha" is "$(vipsheader -f bands "$TMP/r")" 4

# -- each preset --
up "$DATA/images/large_6720x4480_progressive.jpg"; BIG=$ID
get "$DAM/v1/renditions/$BIG/web-thumb" -H 'Accept: image/webp'
check "web-thumb: 200x200 webp" is "$(dims) $(loader)" "200x200 webpload"
get "$DAM/v1/renditions/$BIG/web-large" -H 'Accept: image/webp'
check "web-large: 1200x800" is "$(dims)" 1200x800
get "$DAM/v1/renditions/$BIG/app-card" -H 'Accept: image/avif'
check "app-card: 600x400 avif" is "$(dims) $(loader)" "600x400 heifload"
get "$DAM/v1/renditions/$BIG/print" -H 'Accept: image/avif,image/webp'
check "print: 3000x2000 jpeg whatever Accept says" is "$(dims) $(header content-type)" "3000x2000 image/jpeg"
check "print has no Vary" is "$(header vary)" ""
get "$DAM/v1/renditions/$RGBA/marketplace" -H 'Accept: image/webp'
check "marketplace: 1000x1000 jpeg" is "$(dims) $(header content-type)" "1000x1000 image/jpeg"
check "marketplace pads with white" is "$(vips getpoint "$TMP/r" 2 2 2>/dev/null | xargs)" "255 255 255"
req GET "$DAM/v1/renditions/$BIG/no-such-preset"
check "unknown preset: 404" code_is 404
check "404 is problem+json" is "$(header content-type)" application/problem+json
req GET "$DAM/v1/renditions/sha256:$(printf '0%.0s' $(seq 64))/web-thumb"
check "unknown asset: 404" code_is 404
req GET "$DAM/v1/renditions/nonsense/web-thumb"
check "malformed id: 404" code_is 404

# -- animation: kept for web-large, flattened for web-thumb --
up "$DATA/images/gif-animated_rotating-squares.gif"; ANIM=$ID
get "$DAM/v1/renditions/$ANIM/web-large" -H 'Accept: image/avif,image/webp'
check "animated source, keep: webp" is "$(header content-type)" image/webp
check "the frames are kept" test "$(vipsheader -f n-pages "$TMP/r")" -gt 1
get "$DAM/v1/renditions/$ANIM/web-thumb" -H 'Accept: image/webp'
check "flatten: one frame" bash -c "! vipsheader -f n-pages '$TMP/r' 2>/dev/null | grep -qv '^1\$'"

# -- untrusted formats only in the sandbox --
up "$DATA/images/pdf-multi-page.pdf"
get "$DAM/v1/renditions/$ID/web-large" -H 'Accept: image/webp'
check "pdf first page rendered: 927x1200" is "$(dims)" 927x1200
up "$DATA/images/svg-logo.svg"
get "$DAM/v1/renditions/$ID/web-thumb" -H 'Accept: image/png'
check "svg rasterised" is "$(dims) $(header content-type)" "200x200 image/png"

# -- ad-hoc parameters and signatures --
req GET "$DAM/v1/renditions/$BIG?w=300&h=200&fit=cover&fmt=webp"
check "unsigned ad-hoc: 403" code_is 403
url=$("$BIN/damd" --sign "$BIG" "w=300&fmt=webp&h=200&fit=cover" --sign-keys "$KEYS")
check "the --sign helper signs canonical parameters" \
	bash -c "[[ '$url' == /v1/renditions/$BIG?fit=cover\&fmt=webp\&h=200\&w=300\&sig=* ]]"
get "$DAM$url"
check "signed ad-hoc: 300x200 webp" is "$CODE $(dims) $(loader)" "200 300x200 webpload"
check "fixed fmt: no Vary" is "$(header vary)" ""
req GET "$DAM${url%?}0"
[ "${url: -1}" = 0 ] && req GET "$DAM${url%?}1"
check "a wrong signature: 403" code_is 403
req GET "$DAM${url/w=300/w=301}"
check "parameters changed after signing: 403" code_is 403
old=$("$BIN/damd" --sign "$BIG" "w=300&h=200&fit=cover&fmt=webp" --sign-keys "old:fedcba9876543210fedcba9876543210")
get "$DAM$old"
check "a URL signed with the older key still verifies" code_is 200
gone=$("$BIN/damd" --sign "$BIG" "w=300&h=200&fit=cover&fmt=webp" --sign-keys "gone:00000000000000000000000000000000")
req GET "$DAM$gone"
check "a key no longer configured: 403" code_is 403
url=$("$BIN/damd" --sign "$BIG" "w=250&dpr=2" --sign-keys "$KEYS")
get "$DAM$url" -H 'Accept: image/webp'
check "dpr=2 doubles the size, negotiated" is "$(dims) $(header vary)" "500x333 Accept"
"$BIN/damd" --sign "$BIG" "w=0" --sign-keys "$KEYS" >"$TMP/out" 2>&1
check "the helper refuses bad parameters" grep -q "parameter 'w'" "$TMP/out"
url=$("$BIN/damd" --sign "$BIG" "w=100&fit=squash" --sign-keys "$KEYS" 2>/dev/null)
check "no URL for bad parameters" is "$url" ""
req GET "$DAM/v1/renditions/$BIG?w=abc&sig=00"
check "bad parameters: 400" code_is 400
check "the problem names the parameter" bash -c "jq -r .detail '$TMP/body' | grep -q \"'w'\""

# a data directory without --sign-keys gets a generated key, mode 0600
stop_all
DAM_DATA=$TMP/dam2 start_damd
check "generated signing key is private" is "$(stat -c %a "$TMP/dam2/sign.key")" 600
up "$DATA/images/webp-lossy.webp"
url=$("$BIN/damd" --sign "$ID" "w=120" --data "$TMP/dam2")
get "$DAM$url" -H 'Accept: image/avif'
check "signed with the generated key" is "$CODE $(dims)" "200 120x80"

# --allow-unsigned
stop_all
DAM_DATA=$TMP/dam3 start_damd --allow-unsigned
up "$DATA/images/webp-lossy.webp"
get "$DAM/v1/renditions/$ID?w=100&h=100&fit=contain&fmt=png"
check "--allow-unsigned serves unsigned parameters" is "$CODE $(dims)" "200 100x100"
req GET "$DAM/v1/renditions/$ID?w=100&sig=$(printf 'a%.0s' $(seq 64))"
check "--allow-unsigned still refuses a bad signature" code_is 403
