#!/usr/bin/env bash
# Stored bytes never run as a page on damd's origin: every original and
# rendition carries nosniff and a sandboxing CSP, and types that can hold
# script (HTML, SVG, XML, JavaScript, anything not an image, video, audio
# or PDF) are downloaded, not shown.
source "$(dirname "$0")/lib.sh"
start_damd --allow-unsigned

CSP="default-src 'none'; style-src 'unsafe-inline'; sandbox"
up() { req POST "$DAM/v1/assets" -H "X-Filename: $2" --data-binary @"$1"; ID=$(jqb .id); }
# stored URL: the protective headers on the last answer
protected() {
	[ "$(header x-content-type-options)" = nosniff ] && [ "$(header content-security-policy)" = "$CSP" ] ||
		{ echo "    # nosniff '$(header x-content-type-options)', csp '$(header content-security-policy)'" >&2; return 1; }
}
disposition() { header content-disposition | cut -d';' -f1; }

printf '<html><script>alert(1)</script>' >"$TMP/x.html"
printf 'alert(document.cookie)\n' >"$TMP/x.js"
printf '<?xml version="1.0"?><a xmlns:h="http://www.w3.org/1999/xhtml"><h:script>alert(1)</h:script></a>' >"$TMP/x.xml"

up "$TMP/x.html" x.html; HTML=$ID
check "html upload stored" bash -c "[ $CODE = 201 ] && [ '$(jqb .mime)' = text/html ]"
req GET "$DAM/v1/assets/$HTML"
check "html: 200" code_is 200
check "html: protected" protected
check "html: downloaded, not shown" is "$(disposition)" attachment
check "html: the file keeps its name" is "$(header content-disposition)" "attachment; filename=\"x.html\"; filename*=UTF-8''x.html"
req HEAD "$DAM/v1/assets/$HTML" -I
check "HEAD html: protected" protected
check "HEAD html: attachment" is "$(disposition)" attachment
req GET "$DAM/v1/assets/$HTML" -H 'Range: bytes=0-5'
check "a range of html: 206" code_is 206
check "a range of html: protected" protected
check "a range of html: attachment" is "$(disposition)" attachment

up "$DATA/hostile/svg/inline_js.svg" inline_js.svg; SVG=$ID
check "svg stored as svg" is "$(jqb .mime)" image/svg+xml
req GET "$DAM/v1/assets/$SVG"
check "svg: protected" protected
check "svg: downloaded, not shown" is "$(disposition)" attachment
req GET "$DAM/v1/renditions/$SVG/web-thumb" -H 'Accept: image/png'
check "svg rendition: a png" bash -c "[ $CODE = 200 ] && [ '$(header content-type)' = image/png ]"
check "svg rendition: protected" protected

for f in x.js x.xml; do
	up "$TMP/$f" "$f"
	req GET "$DAM/v1/assets/$ID"
	check "$f ($(header content-type)): protected" protected
	check "$f: attachment" is "$(disposition)" attachment
done

# passive types stay inline: the UI and shops show them
up "$DATA/images/png-rgba.png" a.png; PNG=$ID
req GET "$DAM/v1/assets/$PNG"
check "png: protected" protected
check "png: inline" is "$(disposition)" inline
req GET "$DAM/v1/renditions/$PNG/web-thumb"
check "png rendition: protected" protected
req GET "$DAM/v1/renditions/$PNG/web-thumb"
check "png rendition from the open reply: protected" protected
req GET "$DAM/v1/renditions/$PNG?w=50&h=50&fmt=webp"
check "ad-hoc rendition: protected" protected
up "$DATA/images/pdf-multi-page.pdf" doc.pdf
req GET "$DAM/v1/assets/$ID"
check "pdf ($(header content-type)): inline" is "$(disposition)" inline
check "pdf: protected" protected
