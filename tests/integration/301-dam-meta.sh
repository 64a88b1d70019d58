#!/usr/bin/env bash
# damd metadata: merge-patch edits with validation, listing with filters and
# cursors, delete, and the change feed with long-poll and rights expiry.
source "$(dirname "$0")/lib.sh"
start_damd --gc-interval 1

up() { req POST "$DAM/v1/assets" -H "X-Filename: $2" --data-binary @"$1"; }
ids=()
for f in png-rgba.png gif-cogs.gif webp-lossy.webp jpeg-progressive_telegram.jpg; do
	up "$DATA/images/$f" "$f"; ids+=("$(jqb .id)")
done
a=${ids[0]}; b=${ids[1]}; c=${ids[2]}; d=${ids[3]}

req GET "$DAM/v1/assets/$a/meta"; check "meta: 200" code_is 200
check "fresh meta has empty editable fields" is "$(jqb '[.title, (.tags|length), (.skus|length), .focal_point, .rights.holder]|map(tostring)|join(",")')" "null,0,0,null,null"
check "meta knows the size" is "$(jqb .size)" "$(stat -c %s "$DATA/images/png-rgba.png")"
reqj PATCH "$DAM/v1/assets/$a/meta" '{"title":"Tee, front","alt":{"en_US":"Red tee","fr_FR":"T-shirt rouge"},"tags":["front","red","front"],"skus":["TS-001"],"rights":{"holder":"Studio A","licence":"CC-BY-4.0","expires":"2030-12-31"},"focal_point":{"x":0.5,"y":0.25}}'
check "patch: 200" code_is 200
check "patch applied" is "$(jqb '.title + "|" + .alt.fr_FR + "|" + .rights.expires')" "Tee, front|T-shirt rouge|2030-12-31"
check "tags deduplicated" is "$(jqb '.tags|join(",")')" front,red
check "focal point" is "$(jqb '.focal_point.y')" 0.25
reqj PATCH "$DAM/v1/assets/$a/meta" '{"alt":{"fr_FR":null},"tags":["front"]}' -H 'Content-Type: application/merge-patch+json'
check "merge patch: null removes a locale" is "$(jqb '.alt|keys|join(",")')" en_US
check "merge patch: arrays replaced" is "$(jqb '.tags|join(",")')" front
check "merge patch: untouched fields kept" is "$(jqb .title)" "Tee, front"
reqj PATCH "$DAM/v1/assets/$a/meta" '{"focal_point":{"x":1.5,"y":0},"alt":{"english":"x"},"rights":{"expires":"2030-02-30","owner":"me"},"tags":[3],"size":1}'
check "invalid patch: 422" code_is 422
check "422 is problem+json" is "$(header content-type)" application/problem+json
check "pointer to the focal point" is "$(jqb '[.errors[].path]|index("/focal_point/x")!=null')" true
check "pointer to the locale" is "$(jqb '[.errors[].path]|index("/alt/english")!=null')" true
check "impossible date refused" is "$(jqb '[.errors[].path]|index("/rights/expires")!=null')" true
check "unknown rights field refused" is "$(jqb '[.errors[].path]|index("/rights/owner")!=null')" true
check "non-string tag refused" is "$(jqb '[.errors[].path]|index("/tags/0")!=null')" true
check "read-only field refused" is "$(jqb '[.errors[]|select(.path=="/size")|.code][0]')" read_only
req GET "$DAM/v1/assets/$a/meta"; check "a refused patch changes nothing" is "$(jqb '.focal_point.x')" 0.5
# reals come back as they were written, not as their 17-digit expansion
reqj PATCH "$DAM/v1/assets/$a/meta" '{"focal_point":{"x":0.3,"y":0.1}}'
check "patch answer: the focal point as written" bash -c "grep -q '\"focal_point\":{\"x\":0.3,\"y\":0.1}' '$TMP/body'"
req GET "$DAM/v1/assets/$a/meta"
check "meta: the focal point as written" bash -c "grep -q '\"focal_point\":{\"x\":0.3,\"y\":0.1}' '$TMP/body'"
req GET "$DAM/v1/assets?sku=TS-001"
check "listing: the focal point as written" bash -c "grep -q '\"focal_point\":{\"x\":0.3,\"y\":0.1}' '$TMP/body'"
reqj PATCH "$DAM/v1/assets/$a/meta" '{"focal_point":{"x":0.30000000000000004,"y":1e-7}}'
check "a real that needs 17 digits keeps them" is "$(jqb '.focal_point.x == 0.30000000000000004 and .focal_point.y == 1e-7')" true
reqj PATCH "$DAM/v1/assets/$a/meta" '{"focal_point":{"x":0.5,"y":0.25}}'
reqj PATCH "$DAM/v1/assets/$a/meta" '{"title":'; check "broken JSON: 400" code_is 400
reqj PATCH "$DAM/v1/assets/$a/meta" '[1]'; check "non-object patch: 422" code_is 422
reqj PATCH "$DAM/v1/assets/sha256:$(printf '%064d' 0)/meta" '{}'; check "patch of an unknown asset: 404" code_is 404
reqj POST "$DAM/v1/tokens" '{"name":"shop","role":"reader"}'; reader=$(jqb .token)
AS_TOKEN=$reader reqj PATCH "$DAM/v1/assets/$a/meta" '{"title":"x"}'; check "reader may not edit: 403" code_is 403
AS_TOKEN=$reader req GET "$DAM/v1/assets/$a/meta"; check "reader reads meta" code_is 200
AS_TOKEN= req GET "$DAM/v1/assets/$a/meta"; check "meta needs a token" code_is 401

reqj PATCH "$DAM/v1/assets/$b/meta" '{"tags":["red"],"skus":["TS-002"],"title":"Cogs diagram"}' >/dev/null
reqj PATCH "$DAM/v1/assets/$c/meta" '{"tags":["red","blue"]}' >/dev/null
req GET "$DAM/v1/assets"; check "list all" is "$(jqb '.items|length')" 4
check "last page has no cursor" is "$(jqb .next_cursor)" null
req GET "$DAM/v1/assets?tag=&q="; check "empty filters filter nothing" is "$(jqb '.items|length')" 4
req GET "$DAM/v1/assets?tag=red"; check "filter by tag" is "$(jqb '[.items[].id]|sort|join(",")')" "$(printf '%s\n' "$b" "$c" | sort | paste -sd,)"
req GET "$DAM/v1/assets?sku=TS-001"; check "filter by sku" is "$(jqb '[.items[].id]|join(",")')" "$a"
req GET "$DAM/v1/assets?mime=image/gif"; check "filter by mime" is "$(jqb '[.items[].id]|join(",")')" "$b"
req GET "$DAM/v1/assets?mime=image/*"; check "mime wildcard" is "$(jqb '.items|length')" 4
req GET "$DAM/v1/assets?q=cogs"; check "text search in titles and filenames" is "$(jqb '[.items[].id]|join(",")')" "$b"
req GET "$DAM/v1/assets?tag=red&q=webp"; check "filters combine" is "$(jqb '[.items[].id]|join(",")')" "$c"
# q: whole words of file names, title, alt texts, tags and skus, folded for
# case and accents, every word required, through the word index
qids() { req GET "$DAM/v1/assets?$1"; jqb '[.items[].id]|sort|join(",")'; }
sorted() { printf '%s\n' "$@" | sort | paste -sd,; }
check "q folds case" is "$(qids 'q=COGS')" "$b"
check "q folds accents" is "$(qids 'q=diagr%C3%A2m')" "$b"
check "q finds title and alt words" is "$(qids 'q=tee')" "$a"
check "q needs every word" is "$(qids 'q=red+tee')" "$a"
check "q finds a word of a sku" is "$(qids 'q=ts-002')" "$b"
check "q splits file names on _ and -" is "$(qids 'q=telegram')" "$d"
check "q matches whole words" is "$(qids 'q=cog')" ""
check "q of punctuation filters nothing" is "$(qids 'q=%2C%2C')" "$(sorted "$a" "$b" "$c" "$d")"
seen=(); cur=""; pages=0
while :; do
	req GET "$DAM/v1/assets?q=red&limit=1${cur:+&cursor=$cur}"; pages=$((pages + 1))
	seen+=($(jqb '.items[].id')); cur=$(jqb '.next_cursor // empty'); [ -n "$cur" ] || break
	[ $pages -lt 6 ] || break
done
check "q pages through its index" is "$(printf '%s\n' "${seen[@]}" | sort -u | paste -sd,)" "$(sorted "$a" "$b" "$c")"
reqj PATCH "$DAM/v1/assets/$b/meta" '{"title":"Gear sketch"}' >/dev/null
check "an edit drops the old title's words" is "$(qids 'q=diagram')" ""
check "an edit indexes the new title's words" is "$(qids 'q=sketch')" "$b"
seen=(); cur=""; pages=0
while :; do
	req GET "$DAM/v1/assets?limit=3${cur:+&cursor=$cur}"; pages=$((pages + 1))
	seen+=($(jqb '.items[].id')); cur=$(jqb '.next_cursor // empty'); [ -n "$cur" ] || break
	[ $pages -lt 5 ] || break
done
check "cursor pages: 2" is "$pages" 2
check "cursor pages cover everything once" is "$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)" 4
req GET "$DAM/v1/assets?tag=red&limit=1"; cur=$(jqb .next_cursor)
req GET "$DAM/v1/assets?tag=red&limit=1&cursor=$cur"; check "cursor on an index" is "$(jqb '.items|length')" 1
check "index cursor ends" is "$(jqb .next_cursor)" null
req GET "$DAM/v1/assets?cursor=zz"; check "bad cursor: 400" code_is 400
req GET "$DAM/v1/assets?limit=0"; check "bad limit: 400" code_is 400

req GET "$DAM/v1/changes?since=0&limit=1000"; last=$(jqb .next_since)
check "feed has the uploads" is "$(jqb '[.items[]|select(.type=="asset.uploaded")]|length')" 4
check "feed has the edits" is "$(jqb '[.items[]|select(.type=="asset.meta_changed")]|length>=4')" true
check "feed events carry seq, id and at" is "$(jqb '.items[0]|[has("seq"),has("id"),has("at")]|all')" true
req GET "$DAM/v1/changes?since=0&limit=2"; check "feed limit" is "$(jqb '.items|length')" 2
AS_TOKEN=$reader req GET "$DAM/v1/changes?since=0&limit=1"; check "a reader follows the feed" code_is 200
AS_TOKEN= req GET "$DAM/v1/changes"; check "the feed needs a token" code_is 401
req GET "$DAM/v1/changes?since=-1"; check "negative since: 400" code_is 400
check "next_since is the last seq" is "$(jqb .next_since)" "$(jqb '.items[-1].seq')"
req GET "$DAM/v1/changes?since=$last"; check "nothing new" is "$(jqb '.items|length')" 0
check "since kept when empty" is "$(jqb .next_since)" "$last"
feed=$(jqb .feed_id)
check "the feed names itself" bash -c "[[ '$feed' =~ ^[0-9a-f]{32}\$ ]]"

# long-poll: a delete made while the request waits answers it
curl -sS -m 20 -H "Authorization: Bearer $TOKEN" "$DAM/v1/changes?since=$last&wait=15" >"$TMP/poll" &
poller=$!
sleep 0.5
req DELETE "$DAM/v1/assets/$d"; check "delete: 204" code_is 204
wait $poller
check "long-poll woke with the delete" is "$(jq -r '.items[0].type + " " + .items[0].id' "$TMP/poll")" "asset.deleted $d"
req GET "$DAM/v1/assets/$d"; check "deleted original: 410" code_is 410
# until the collector removes it, the record tells what went and when
req GET "$DAM/v1/assets/$d/meta"; check "deleted meta: 200" code_is 200
check "the record says it was deleted, and when" is "$(jqb '[.deleted, (.deleted_at|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$"))]|map(tostring)|join(",")')" "true,true"
check "with its metadata, without internal fields" is "$(jqb '[.id == "'"$d"'", (.filenames|length) > 0, has("deleted_epoch")]|map(tostring)|join(",")')" "true,true,false"
reqj PATCH "$DAM/v1/assets/$d/meta" '{"title":"x"}'; check "a deleted asset is not edited: 410" code_is 410
req DELETE "$DAM/v1/assets/$d"; check "delete again: 410" code_is 410
req GET "$DAM/v1/assets"; check "deleted asset not listed" is "$(jqb '.items|length')" 3
req GET "$DAM/v1/assets?mime=image/jpeg"; check "deleted asset left the index" is "$(jqb '.items|length')" 0
check "deleted asset not found by q" is "$(qids 'q=telegram')" ""
AS_TOKEN=$reader req DELETE "$DAM/v1/assets/$a"; check "reader may not delete: 403" code_is 403
up "$DATA/images/jpeg-progressive_telegram.jpg" again.jpg; check "deleted bytes uploaded again: 201" code_is 201
req GET "$DAM/v1/assets/$d"; check "revived asset served" code_is 200

# rights expiry: one event when the date has passed, from the background check
req GET "$DAM/v1/changes?since=$last"; since=$(jqb .next_since)
reqj PATCH "$DAM/v1/assets/$b/meta" '{"rights":{"expires":"2020-01-01"}}'; check "past expiry accepted" code_is 200
expired=""
for i in $(seq 20); do
	req GET "$DAM/v1/changes?since=$since&wait=5"; since=$(jqb .next_since)
	expired=$(jqb '.items[]|select(.type=="asset.rights_expired")|.id')
	[ -z "$expired" ] || break
done
check "rights_expired event" is "$expired" "$b"
sleep 2.2
req GET "$DAM/v1/changes?since=$since"; check "rights expire once" is "$(jqb '[.items[]|select(.type=="asset.rights_expired")]|length')" 0
req GET "$DAM/v1/assets/$b/meta"; check "record says rights expired" is "$(jqb .rights_expired)" true
AS_TOKEN= req GET "$DAM/v1/assets/$b"; check "expired rights: the public original is 451" code_is 451
AS_TOKEN= req GET "$DAM/v1/renditions/$b/web-thumb"; check "and the public rendition" code_is 451
req GET "$DAM/v1/assets/$b"; check "a token still gets the original" code_is 200
req GET "$DAM/v1/renditions/$b/web-thumb"; check "and the rendition" code_is 200
AS_TOKEN= req GET "$DAM/v1/renditions/$b/web-thumb"; check "which the public still may not have" code_is 451
reqj PATCH "$DAM/v1/assets/$b/meta" '{"rights":{"expires":"2999-01-01"}}'; check "rights renewed" code_is 200
AS_TOKEN= req GET "$DAM/v1/renditions/$b/web-thumb"; check "renewed: published again" code_is 200

# the feed's identity outlives a restart; another store has another one
kill "$DAM_PID"; wait "$DAM_PID" 2>/dev/null
start_damd
req GET "$DAM/v1/changes?since=0&limit=1"; check "feed id kept across a restart" is "$(jqb .feed_id)" "$feed"
DAM_DATA=$TMP/dam-other; start_damd
req GET "$DAM/v1/changes?since=0&limit=1"; other=$(jqb .feed_id)
check "another store, another feed id" bash -c "[ -n '$other' ] && [ '$other' != '$feed' ]"
