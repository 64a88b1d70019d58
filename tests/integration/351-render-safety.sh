#!/usr/bin/env bash
# Rendition safety and load: every hostile file gets a 4xx and the daemon
# keeps serving, pixel and frame limits, one render for many concurrent
# requests of the same rendition, 503 with Retry-After on a full queue,
# deleted assets, non-images.
source "$(dirname "$0")/lib.sh"

start_damd --allow-unsigned --render-workers 1 --render-queue 1

up() { req POST "$DAM/v1/assets" -H "X-Filename: $(basename "$1")" --data-binary @"$1"; ID=$(jqb .id); }
metric() { curl -s "$DAM/metrics" | awk -v m="$1" '$1==m{print $2}'; }

# -- hostile files: a clear 4xx, never a 5xx, and the daemon stays up --
bad=0; n=0
for f in "$DATA"/hostile/images/* "$DATA"/hostile/svg/*; do
	[ -f "$f" ] || continue
	up "$f"
	[ "$CODE" -lt 300 ] || continue
	req GET "$DAM/v1/renditions/$ID/web-thumb" -H 'Accept: image/webp'
	case $CODE in
	200) case $(basename "$f") in bomb_1[67]*|bomb_2*|bomb_giant*|*invalid*|x_ihdr*|*missing-idat*|*bad-*|*crlf*|xxe*)
		echo "    # $(basename "$f") rendered"; bad=$((bad + 1));; esac ;;
	4??) jq -e '.status >= 400 and (.detail | length) > 0' "$TMP/body" >/dev/null ||
		{ echo "    # $(basename "$f"): $CODE without a problem detail"; bad=$((bad + 1)); } ;;
	*) echo "    # $(basename "$f"): $CODE $(head -c 200 "$TMP/body")"; bad=$((bad + 1)) ;;
	esac
	curl -fsS -m 5 -o /dev/null "$DAM/healthz" || die "damd died on $(basename "$f")"
	n=$((n + 1))
done
check "hostile files ($n): 4xx with a reason, or harmless renders" is "$bad" 0
up "$DATA/hostile/images/bomb_16384x16384.png"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "pixel bomb: 422" code_is 422
check "the problem says megapixels" bash -c "jq -r .detail '$TMP/body' | grep -q megapixels"
# no internal path in any answer: libvips names the file it fails on
up "$DATA/hostile/images/bomb_17000x17000.avif"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "avif bomb: 422" code_is 422
check "its problem names no path ($(jqb .detail))" bash -c "! grep -qE '$TMP|/blobs/|/tmp/' '$TMP/body'"
check "the log has the full text" grep -q "/blobs/${ID:7:2}/${ID:9:2}/${ID#sha256:}" "$TMP/damd.log"
up "$DATA/hostile/images/bomb_giant.svg"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "giant svg: 422" code_is 422
up "$DATA/hostile/images/bomb_1024-pages.gif"
req GET "$DAM/v1/renditions/$ID/web-large" -H 'Accept: image/webp'
check "1024-frame animation kept as frames: 422" code_is 422
check "the problem names the frame limit" bash -c "jq -r .detail '$TMP/body' | grep -q frames"
up "$DATA/hostile/images/truncated.jpg"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "truncated jpeg: 422" code_is 422
up "$DATA/hostile/archives/valid_test.zip"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "not an image: 422" code_is 422
check "damd alive after the hostile set" curl -fsS -m 5 -o /dev/null "$DAM/healthz"

# -- one render for many concurrent requests of the same rendition --
up "$DATA/images/large_iphone7_4032x3024.heic"; HEIC=$ID
before=$(metric damd_renders_total)
pids=()
for i in 1 2 3 4 5 6 7 8; do
	curl -s -o /dev/null -D "$TMP/h$i" -w '%{http_code}\n' -H 'Accept: image/webp' \
		"$DAM/v1/renditions/$HEIC/print" >"$TMP/c$i" &
	pids+=($!)
done
wait "${pids[@]}"
check "8 concurrent requests all answered 200" is "$(cat "$TMP"/c? | sort -u | xargs)" 200
check "one ETag for all" is "$(grep -hi '^etag' "$TMP"/h? | sort -u | wc -l)" 1
check "exactly one render" is "$(( $(metric damd_renders_total) - before ))" 1
check "the others joined it" test "$(metric damd_render_joined_total)" -ge 1
req GET "$DAM/v1/renditions/$HEIC/print"
check "later requests come from disk: no render" is "$(( $(metric damd_renders_total) - before ))" 1

# -- a full queue answers 503 with Retry-After (1 worker, queue of 1) --
pids=()
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -D "$TMP/q$i" -w '%{http_code}\n' \
		"$DAM/v1/renditions/$HEIC?w=$((2000 + i))&fmt=avif" >"$TMP/s$i" &
	pids+=($!)
done
wait "${pids[@]}"
codes=$(cat "$TMP"/s? | sort | uniq -c | xargs)
check "some renders refused with 503 ($codes)" grep -q 503 "$TMP"/s?
check "some renders done ($codes)" grep -q 200 "$TMP"/s?
check "503 carries Retry-After" bash -c "grep -li '^retry-after' '$TMP'/q? | grep -q ."
check "nothing but 200 and 503" bash -c "! grep -qvE '^(200|503)$' '$TMP'/s?"
check "refusals counted" test "$(metric damd_render_rejected_total)" -ge 1
check "damd alive after the overflow" curl -fsS -m 5 -o /dev/null "$DAM/healthz"

# -- a changed focal point makes a new crop; deleted assets are gone --
up "$DATA/images/exif-orientation/Landscape_1.jpg"; LAND=$ID
req GET "$DAM/v1/renditions/$LAND/web-thumb"; req GET "$DAM/v1/renditions/$LAND/web-thumb"
before=$(header etag)
# immutable by default: the URLs pimd hands out change with the focal point
check "a preset rendition: immutable by default" is "$(header cache-control)" "public, max-age=31536000, immutable"
reqj PATCH "$DAM/v1/assets/$LAND/meta" '{"focal_point":{"x":0.05,"y":0.5}}'
check "focal point set" code_is 200
req GET "$DAM/v1/renditions/$LAND/web-thumb"
check "the crop follows the focal point: a new rendition" bash -c "[ -n '$before' ] && [ '$before' != '$(header etag)' ]"
req GET "$DAM/v1/renditions/$LAND/web-thumb" -H "If-None-Match: $before"
check "a cache revalidating the old crop gets the new one" code_is 200
up "$DATA/images/png-rgba.png"; RGBA=$ID
req GET "$DAM/v1/renditions/$RGBA/web-thumb"; check "rendition before delete" code_is 200
req GET "$DAM/v1/renditions/$RGBA/web-thumb"; check "and again, from the cache" code_is 200
req DELETE "$DAM/v1/assets/$RGBA"
req GET "$DAM/v1/renditions/$RGBA/web-thumb"
check "deleted asset: 404 or 410" bash -c "[ '$CODE' = 404 ] || [ '$CODE' = 410 ]"

# -- --max-pixels lowers the source limit --
stop_all
DAM_DATA=$TMP/dam2 start_damd --max-pixels 1000000 --rendition-max-age 120
up "$DATA/images/jpeg-progressive_telegram.jpg"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "1.3 MP source over --max-pixels 1000000: 422" code_is 422
up "$DATA/images/png-rgba.png"
req GET "$DAM/v1/renditions/$ID/web-thumb"
check "a small source still renders" code_is 200
check "--rendition-max-age: a bounded time, not immutable" is "$(header cache-control)" "public, max-age=120"
req GET "$DAM/v1/assets/$ID"
check "an original, named by its bytes, stays immutable" is "$(header cache-control)" "public, max-age=31536000, immutable"
