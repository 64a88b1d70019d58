#!/usr/bin/env bash
# damd uploads: raw and multipart bodies stream into blobs named by their
# SHA-256, dedupe, sniffed media types, limits, roles, crash leftovers, the
# original served with Range, ETag and 304, hostile images never a 5xx.
source "$(dirname "$0")/lib.sh"

# a temporary left by a "crash" before start is removed at start
mkdir -p "$TMP/dam/tmp"; echo half >"$TMP/dam/tmp/0123abcd.part"
start_damd --max-upload 2M
check "crash leftovers removed at start" test ! -e "$TMP/dam/tmp/0123abcd.part"

img=$DATA/images/jpeg-cmyk_with_profile.jpg
hex=$(sha256sum "$img" | cut -d' ' -f1)
up() { req POST "$DAM/v1/assets" -H "X-Filename: $2" -H 'Content-Type: application/octet-stream' --data-binary @"$1"; }

up "$img" front.jpg; check "raw upload: 201" code_is 201
check "id is sha256 of the bytes" is "$(jqb .id)" "sha256:$hex"
check "size" is "$(jqb .size)" "$(stat -c %s "$img")"
check "mime sniffed" is "$(jqb .mime)" image/jpeg
check "filename kept" is "$(jqb '.filenames|join(",")')" front.jpg
check "width and height from the header" is "$(jqb '"\(.width)x\(.height)"')" "$(vipsheader -f width "$img")x$(vipsheader -f height "$img")"
check "EXIF orientation" is "$(jqb .orientation)" "$(vipsheader -f orientation "$img" 2>/dev/null || echo 1)"
check "ICC profile noticed" is "$(jqb .has_icc)" true
check "Location names the asset" is "$(header location)" "/v1/assets/sha256:$hex"
check "blob under blobs/ab/cd/<hex>" test -f "$DAM_DATA/blobs/${hex:0:2}/${hex:2:2}/$hex"
check "no temporary left" bash -c "[ -z \"\$(ls -A '$DAM_DATA/tmp')\" ]"
up "$img" back.jpg; check "same bytes again: 200" code_is 200
check "second filename added" is "$(jqb '.filenames|join(",")')" front.jpg,back.jpg
check "one blob for both" is "$(find "$DAM_DATA/blobs" -type f | wc -l)" 1
up "$img" ../../etc/evil.jpg; check "path-like filename reduced to its last part" is "$(jqb '.filenames[-1]')" evil.jpg

up "$DATA/images/this-is-a-jpeg.png" trick.png
check "type from the bytes, not the name" is "$(jqb .mime)" image/jpeg
req POST "$DAM/v1/assets" -H 'X-Filename: x.txt' -H 'Content-Type: image/png' --data-binary 'plain words, nothing more'
check "text upload: 201" code_is 201
check "client Content-Type ignored" is "$(jqb .mime)" text/plain
up "$DATA/images/pdf-multi-page.pdf" manual.pdf; check "PDF manual stored" code_is 201
check "PDF mime" is "$(jqb .mime)" application/pdf
check "PDF pages" bash -c "[ \"\$(jq .pages '$TMP/body')\" -gt 1 ]"
pdf=$(jqb .id)

# multipart/form-data with two files
req POST "$DAM/v1/assets" -F "a=@$DATA/images/png-rgba.png" -F "note=hello" -F "b=@$DATA/images/gif-cogs.gif;filename=cogs.gif"
check "multipart with two files: 201" code_is 201
check "both files answered" is "$(jqb '.items|length')" 2
check "multipart ids are sha256" is "$(jqb '.items[0].id')" "sha256:$(sha256sum "$DATA/images/png-rgba.png" | cut -d' ' -f1)"
check "multipart filename" is "$(jqb '.items[1].filenames[0]')" cogs.gif
req POST "$DAM/v1/assets" -F "a=@$DATA/images/png-rgba.png;filename=again.png"
check "multipart single known file: 200" code_is 200
check "single file answers the asset itself" is "$(jqb '.filenames|join(",")')" png-rgba.png,again.png
req POST "$DAM/v1/assets" -F "note=only text"; check "form without a file: 400" code_is 400
req POST "$DAM/v1/assets" -H 'Content-Type: multipart/form-data' --data-binary 'abc'
check "multipart without a boundary: 415" code_is 415
printf -- '--XYZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello world, cut he' >"$TMP/cut.mp"
req POST "$DAM/v1/assets" -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary @"$TMP/cut.mp"
check "form cut short: 400" code_is 400
check "cut form stored nothing" bash -c "[ -z \"\$(ls -A '$DAM_DATA/tmp')\" ]"
req GET "$DAM/v1/assets/sha256:$(printf 'hello world, cut he' | sha256sum | cut -d' ' -f1)"; check "cut file not an asset" code_is 404

req POST "$DAM/v1/assets" -H 'X-Filename: e'; check "empty body: 400" code_is 400
head -c 3000000 /dev/urandom >"$TMP/big"
up "$TMP/big" big.bin; check "over --max-upload: 413" code_is 413
check "413 is problem+json" is "$(header content-type)" application/problem+json
check "refused upload leaves no temporary" bash -c "[ -z \"\$(ls -A '$DAM_DATA/tmp')\" ]"
AS_TOKEN= up "$img" x.jpg; check "upload without a token: 401" code_is 401
reqj POST "$DAM/v1/tokens" '{"name":"shop","role":"reader"}'; reader=$(jqb .token)
reqj POST "$DAM/v1/tokens" '{"name":"studio","role":"designer"}'; designer=$(jqb .token)
AS_TOKEN=$reader up "$img" x.jpg; check "reader may not upload: 403" code_is 403
AS_TOKEN=$designer up "$DATA/images/webp-lossy.webp" d.webp; check "designer uploads" code_is 201

# the original: public, immutable, ranges, conditional
AS_TOKEN= req GET "$DAM/v1/assets/sha256:$hex"; check "original without a token: 200" code_is 200
check "original bytes intact" cmp -s "$TMP/body" "$img"
check "ETag is the hash" is "$(header etag)" "\"$hex\""
check "immutable caching" is "$(header cache-control)" "public, max-age=31536000, immutable"
check "Accept-Ranges" is "$(header accept-ranges)" bytes
check "Content-Type is the sniffed type" is "$(header content-type)" image/jpeg
check "Content-Disposition names the file" is "$(header content-disposition)" "inline; filename=\"front.jpg\"; filename*=UTF-8''front.jpg"
up "$DATA/images/maracujá.jpg" "maracujá.jpg"; mid=$(jqb .id)
req GET "$DAM/v1/assets/$mid"; check "non-ASCII name: encoded and with a fallback" is "$(header content-disposition)" "inline; filename=\"maracuj__.jpg\"; filename*=UTF-8''maracuj%C3%A1.jpg"
req GET "$DAM/v1/assets/$hex"; check "bare hex id accepted" code_is 200
req HEAD "$DAM/v1/assets/sha256:$hex" -I; check "HEAD" code_is 200
check "HEAD length" is "$(header content-length)" "$(stat -c %s "$img")"
req GET "$DAM/v1/assets/sha256:$hex" -H 'Range: bytes=0-99'; check "range: 206" code_is 206
check "range length" is "$(stat -c %s "$TMP/body")" 100
check "Content-Range" is "$(header content-range)" "bytes 0-99/$(stat -c %s "$img")"
check "range bytes" cmp -s "$TMP/body" <(head -c 100 "$img")
req GET "$DAM/v1/assets/sha256:$hex" -H 'Range: bytes=-10'; check "suffix range" code_is 206
check "suffix bytes" cmp -s "$TMP/body" <(tail -c 10 "$img")
req GET "$DAM/v1/assets/sha256:$hex" -H 'Range: bytes=731000-'; check "open range" is "$(header content-range)" "bytes 731000-731615/731616"
req GET "$DAM/v1/assets/sha256:$hex" -H 'Range: bytes=9999999-'; check "past the end: 416" code_is 416
check "416 names the size" is "$(header content-range)" "bytes */731616"
req GET "$DAM/v1/assets/sha256:$hex" -H 'Range: bytes=0-1,5-6'; check "several ranges: the whole file" code_is 200
req GET "$DAM/v1/assets/sha256:$hex" -H "If-None-Match: \"$hex\""; check "If-None-Match: 304" code_is 304
req GET "$DAM/v1/assets/sha256:$(printf '%064d' 0)"; check "unknown asset: 404" code_is 404
req GET "$DAM/v1/assets/not-an-id"; check "malformed id: 404" code_is 404
req GET "$DAM/v1/assets/$pdf/meta"; check "meta of the PDF" code_is 200

# hostile images: stored or refused with a 4xx, never a 5xx, daemon alive
bad=0
for f in "$DATA"/hostile/images/*; do
	[ -f "$f" ] || continue
	up "$f" "$(basename "$f")"
	case $CODE in 2??|4??) ;; *) echo "    # $(basename "$f") gave $CODE"; bad=$((bad + 1)) ;; esac
done
check "hostile images: no 5xx" is "$bad" 0
req GET "$DAM/healthz"; check "alive after hostile uploads" code_is 200

# a big upload streams through several writeback windows, whose pages are
# dropped as it goes, and is stored whole
DAM_DATA=$TMP/dam2; start_damd
head -c 50000000 /dev/urandom >"$TMP/huge"
hex=$(sha256sum "$TMP/huge" | cut -d' ' -f1)
up "$TMP/huge" huge.bin; check "50 MB upload: 201" code_is 201
check "50 MB id is its sha256" is "$(jqb .id)" "sha256:$hex"
check "50 MB blob intact" cmp -s "$TMP/huge" "$DAM_DATA/blobs/${hex:0:2}/${hex:2:2}/$hex"
check "50 MB upload leaves no temporary" bash -c "[ -z \"\$(ls -A '$DAM_DATA/tmp')\" ]"
