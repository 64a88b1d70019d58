#!/usr/bin/env bash
# damd's collector removes the blobs of deleted assets after the grace
# period (and keeps blobs still in use), and the renditions no request gets
# any more (of a changed preset, around an old focal point); damd --fsck
# finds a corrupted or
# missing blob, names it, exits non-zero, and --repair quarantines it.
source "$(dirname "$0")/lib.sh"
start_damd --gc-grace 0 --gc-interval 1

up() { req POST "$DAM/v1/assets" -H "X-Filename: $2" --data-binary @"$1"; }
blob() { local h=${1#sha256:}; echo "$DAM_DATA/blobs/${h:0:2}/${h:2:2}/$h"; }
# waits up to 15 s for a condition the collector brings about
eventually() { local i; for i in $(seq 150); do "$@" && return 0; sleep 0.1; done; return 1; }

up "$DATA/images/png-rgba.png" a.png; a=$(jqb .id)
up "$DATA/images/gif-cogs.gif" b.gif; b=$(jqb .id)
up "$DATA/images/webp-lossy.webp" c.webp; c=$(jqb .id)
check "blobs on disk" test -f "$(blob "$a")"
req DELETE "$DAM/v1/assets/$a"; check "delete" code_is 204
check "collector removes the deleted blob" eventually test ! -e "$(blob "$a")"
check "collected record is gone: 404" eventually bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$DAM/v1/assets/$a') = 404 ]"
req GET "$DAM/v1/assets/$a/meta"; check "and so is its metadata: 404" code_is 404
check "live blobs kept" test -f "$(blob "$b")"
up "$DATA/images/png-rgba.png" a-again.png; check "collected bytes upload again as new" code_is 201
check "and are stored again" test -f "$(blob "$a")"
req GET "$DAM/v1/assets/$a"; check "served again" code_is 200
stop_all

# a daemon with a long grace keeps deleted blobs
DAM_DATA=$TMP/dam2; start_damd --gc-grace 3600 --gc-interval 1
up "$DATA/images/png-rgba.png" a.png; g=$(jqb .id)
req DELETE "$DAM/v1/assets/$g"; check "delete under a long grace" code_is 204
sleep 1.5
check "blob kept during the grace period" test -f "$DAM_DATA/blobs/$(echo ${g#sha256:} | cut -c1-2)/$(echo ${g#sha256:} | cut -c3-4)/${g#sha256:}"
stop_all

# renditions of a preset that changed or went are never served again: the
# collector drops them; those of an unchanged preset stay
DAM_DATA=$TMP/dam3; P=$TMP/renditions.json
cp "$ROOT/schemas/renditions.json" "$P"
start_damd --gc-grace 0 --gc-interval 1 --presets "$P"
up "$DATA/images/jpeg-progressive_telegram.jpg" r.jpg; r=$(jqb .id)
etag_of() { req GET "$DAM/v1/renditions/$r/$1" -H 'Accept: image/jpeg'; header etag | tr -d '"'; }
thumb=$(etag_of web-thumb); print=$(etag_of print); card=$(etag_of app-card)
check "renditions stored as blobs" test -f "$(blob "$thumb")" -a -f "$(blob "$print")" -a -f "$(blob "$card")"
sleep 1.5
check "kept while their presets stay" test -f "$(blob "$thumb")" -a -f "$(blob "$card")"
stop_all
jq '.presets["web-thumb"].width = 150 | .presets.print.description = "edited" | del(.presets["app-card"])' \
	"$ROOT/schemas/renditions.json" >"$P"
start_damd --gc-grace 0 --gc-interval 1 --presets "$P"
check "an edited preset's rendition is collected" eventually test ! -e "$(blob "$thumb")"
check "so is a removed preset's" eventually test ! -e "$(blob "$card")"
check "a new description changes nothing" test -f "$(blob "$print")"
check "the print rendition is still served from it" is "$(etag_of print)" "$print"
req GET "$DAM/v1/renditions/$r/web-thumb" -H 'Accept: image/jpeg'; check "the edited preset renders anew" code_is 200
check "at its new size" bash -c "vipsheader '$TMP/body' | grep -q ': 150x200 '"
check "the source is untouched" test -f "$(blob "$r")"
# nor is a cover crop around a focal point the asset no longer has
reqj PATCH "$DAM/v1/assets/$r/meta" '{"focal_point":{"x":0.2,"y":0.3}}'; check "focal point set" code_is 200
f1=$(etag_of web-thumb)
check "a crop around it" test -f "$(blob "$f1")"
sleep 1.5
check "kept while the focal point stays" test -f "$(blob "$f1")"
reqj PATCH "$DAM/v1/assets/$r/meta" '{"focal_point":{"x":0.8,"y":0.3}}'
check "the crop around the old focal point is collected" eventually test ! -e "$(blob "$f1")"
check "a crop around the new one is served" bash -c "[ '$(etag_of web-thumb)' != '$f1' ]"
check "renditions that crop nothing stay" test -f "$(blob "$print")"
stop_all
DAM_DATA=$TMP/dam

# fsck on a healthy store
"$BIN/damd" --fsck --data "$DAM_DATA" >"$TMP/fsck0" 2>&1; rc=$?
check "healthy store: fsck exits 0" is "$rc" 0
check "fsck summarises" grep -q '^fsck: 3 blobs' "$TMP/fsck0"

# corrupt one blob by hand, lose another
printf 'X' | dd of="$(blob "$b")" bs=1 seek=10 conv=notrunc status=none
rm "$(blob "$c")"
"$BIN/damd" --fsck --data "$DAM_DATA" >"$TMP/fsck1" 2>&1; rc=$?
check "damaged store: fsck exits non-zero" is "$rc" 1
check "corrupt blob named" grep -q "corrupt blob ${b#sha256:}" "$TMP/fsck1"
check "missing blob's asset named" grep -q "asset $c: its blob is missing" "$TMP/fsck1"
check "fsck without --repair changes nothing" test -f "$(blob "$b")"
"$BIN/damd" --fsck --repair --data "$DAM_DATA" >"$TMP/fsck2" 2>&1; rc=$?
check "repair run still reports the damage" is "$rc" 1
check "corrupt blob quarantined" test -f "$DAM_DATA/quarantine/${b#sha256:}"
check "corrupt blob out of blobs/" test ! -e "$(blob "$b")"
"$BIN/damd" --fsck --data "$DAM_DATA" >"$TMP/fsck3" 2>&1; rc=$?
check "after repair: fsck exits 0" is "$rc" 0
start_damd
req GET "$DAM/v1/assets/$b/meta"; check "repaired asset's record: 200" code_is 200
check "it reads as deleted and missing" is "$(jqb '[.deleted, .missing]|map(tostring)|join(",")')" "true,true"
req GET "$DAM/v1/assets/$b"; check "its bytes: 410" code_is 410
req GET "$DAM/v1/assets/$a"; check "healthy asset still served" code_is 200
up "$DATA/images/gif-cogs.gif" b.gif; check "lost bytes can be uploaded again" code_is 201
check "and are whole again" cmp -s "$(blob "$b")" "$DATA/images/gif-cogs.gif"
