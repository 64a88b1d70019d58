#!/usr/bin/env bash
# damd archive uploads: zip, tar and tar.gz stored entry by entry, a
# manifest.csv applied, and every unsafe entry refused with its reason:
# absolute paths, "..", links, devices, nested archives, too many entries,
# too many bytes (zip bombs); a body that is no archive or is corrupt gets a
# problem+json 4xx. Refused entries are never stored.
source "$(dirname "$0")/lib.sh"
start_damd --archive-max-entries 8 --archive-max-bytes 3M

A=$DATA/hostile/archives
arch() { req POST "$DAM/v1/assets/archive" -H 'Content-Type: application/octet-stream' --data-binary @"$1"; }
reason() { jqb --arg e "$1" '.refused[]|select(.entry==$e)|.reason'; }
stored_id() { jqb --arg e "$1" '.stored[]|select(.entry==$e)|.id'; }
not_stored() { req GET "$DAM/v1/assets/sha256:$1"; [ "$CODE" = 404 ]; }

# a zip with a manifest, built here
python3 - "$TMP" "$DATA" <<'PY'
import io, os, sys, tarfile, zipfile
tmp, data = sys.argv[1], sys.argv[2]
img = open(os.path.join(data, "images/png-rgba.png"), "rb").read()
with zipfile.ZipFile(os.path.join(tmp, "m.zip"), "w") as z:
    z.writestr("photos/TS-001_1.png", img)
    z.writestr("docs/care.txt", b"wash cold, dry flat\n")
    z.writestr("docs/care-copy.txt", b"wash cold, dry flat\n")
    z.writestr("manifest.csv", "filename,skus,alt,alt-fr_FR,tags,rights_holder,licence,expires,title\n"
               "TS-001_1.png,\"TS-001; TS-001-RED\",Red tee,T-shirt rouge,\"front,summer\",Studio A,CC-BY-4.0,2030-01-31,Front\n"
               "docs/care.txt,TS-001,,,care,,,,Care\n"
               "missing.jpg,X,,,,,,,\n")
    z.writestr("nested/inner.zip", b"PK\x03\x04 not really")
    z.writestr("docs/manual.docx", b"PK\x03\x04 a word document, zip inside")
    z.writestr("sneaky.bin", zipfile.ZipFile and open(os.path.join(data, "hostile/archives/valid_test.zip"), "rb").read())
# tar.gz with a device, a fifo, a symlink and an absolute path
with tarfile.open(os.path.join(tmp, "d.tar.gz"), "w:gz") as t:
    def add(name, typ, payload=b"", link=""):
        ti = tarfile.TarInfo(name); ti.type = typ; ti.linkname = link; ti.size = len(payload)
        t.addfile(ti, io.BytesIO(payload) if payload else None)
    add("ok.txt", tarfile.REGTYPE, b"fine bytes\n")
    add("dev/null0", tarfile.CHRTYPE)
    add("pipe", tarfile.FIFOTYPE)
    add("ln", tarfile.SYMTYPE, link="/etc/passwd")
    add("/abs/evil.txt", tarfile.REGTYPE, b"absolute evil\n")
    add("a\\..\\..\\win-evil.txt", tarfile.REGTYPE, b"backslash evil\n")
# more entries than --archive-max-entries 8
with zipfile.ZipFile(os.path.join(tmp, "many.zip"), "w") as z:
    for i in range(11):
        z.writestr("f%d.txt" % i, b"file number %d\n" % i)
# 4 MiB of zeros: past --archive-max-bytes 3M
with zipfile.ZipFile(os.path.join(tmp, "big.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("small.txt", b"small\n")
    z.writestr("zeros.bin", b"\0" * (4 << 20))
PY

arch "$TMP/m.zip"; check "zip with manifest: 201" code_is 201
check "four entries stored" is "$(jqb '.stored|length')" 4
check "a zip-based document is an asset, not a nested archive" bash -c "[ -n \"\$(jq -r '.stored[]|select(.entry==\"docs/manual.docx\")|.id' '$TMP/body')\" ]"
care=$(stored_id docs/care.txt)
check "twin entries share one id" is "$care" "$(stored_id docs/care-copy.txt)"
png=$(stored_id photos/TS-001_1.png)
check "entry id is sha256 of its bytes" is "$png" "sha256:$(sha256sum "$DATA/images/png-rgba.png" | cut -d' ' -f1)"
check "manifest.csv is not an asset" is "$(jqb '[.stored[].entry]|index("manifest.csv")')" null
check "nested archive by name refused" is "$(reason nested/inner.zip)" nested_archive
check "nested archive by content refused" is "$(reason sneaky.bin)" nested_archive
check "manifest row for a missing file reported" is "$(jqb '.manifest_errors[0].line')" 4
req GET "$DAM/v1/assets/$png/meta"
check "manifest SKUs" is "$(jqb '.skus|join(",")')" TS-001,TS-001-RED
check "manifest alt" is "$(jqb '.alt.en_US + "|" + .alt.fr_FR')" "Red tee|T-shirt rouge"
check "manifest tags" is "$(jqb '.tags|join(",")')" front,summer
check "manifest rights" is "$(jqb '.rights.holder + "|" + .rights.licence + "|" + .rights.expires')" "Studio A|CC-BY-4.0|2030-01-31"
check "manifest title" is "$(jqb .title)" Front
check "entry filename kept" is "$(jqb '.filenames[0]')" TS-001_1.png
req GET "$DAM/v1/assets/$care/meta"
check "twin entries' names both kept" is "$(jqb '.filenames|join(",")')" care.txt,care-copy.txt
req GET "$DAM/v1/assets?sku=TS-001"; check "manifest SKUs indexed" is "$(jqb '.items|length')" 2
arch "$TMP/m.zip"; check "same archive again: 200" code_is 200

arch "$TMP/d.tar.gz"; check "tar.gz with unsafe entries answers" code_is 201
check "tar.gz regular file stored" is "$(jqb '.stored[0].entry')" ok.txt
check "character device refused" is "$(reason dev/null0)" device
check "fifo refused" is "$(reason pipe)" device
check "symlink refused" is "$(reason ln)" link
check "absolute path refused" is "$(reason /abs/evil.txt)" absolute_path
check "backslash .. refused" is "$(reason 'a\..\..\win-evil.txt')" path_traversal
check "absolute entry not stored" not_stored "$(printf 'absolute evil\n' | sha256sum | cut -d' ' -f1)"
check "backslash entry not stored" not_stored "$(printf 'backslash evil\n' | sha256sum | cut -d' ' -f1)"

for a in zip-slip.zip zip-slip.tar; do
	arch "$A/$a"; check "$a answers" bash -c "[ $CODE = 200 ] || [ $CODE = 201 ]"
	check "$a: good entry stored" is "$(jqb '.stored[0].entry')" good.txt
	check "$a: traversal refused" is "$(jqb '.refused[0].reason')" path_traversal
done
check "zip-slip entry not stored" not_stored "$(python3 -c '
import zipfile,hashlib,sys; z=zipfile.ZipFile(sys.argv[1])
print([hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist() if ".." in i.filename][0])' "$A/zip-slip.zip")"
check "nothing written outside" test ! -e /tmp/evil.txt
arch "$A/symlink.zip"; check "zip symlink refused" is "$(reason symlink)" link
arch "$A/tar_hardlink.tar"; check "hard link refused" is "$(reason hard.txt)" link
arch "$A/valid_test.zip"; check "valid zip stored" is "$(jqb '.stored|length')" 2
arch "$A/test-trailing-junk.zip"; check "zip with trailing junk read" is "$(jqb '.stored|length')" 2
arch "$A/valid_ustar.tar"; check "ustar long name stored" is "$(jqb '.stored|length')" 1

arch "$TMP/many.zip"; check "too many entries answers" code_is 201
check "eight entries stored" is "$(jqb '.stored|length')" 8
check "the ninth refused" is "$(jqb '.refused[0].reason')" too_many_entries
arch "$TMP/big.zip"; check "past the byte limit: too_large" is "$(reason zeros.bin)" too_large
check "zeros not stored" not_stored "$(head -c 4194304 /dev/zero | sha256sum | cut -d' ' -f1)"
REQ_TIMEOUT=60 arch "$A/zbsm.zip"; check "zip bomb answers" bash -c "[ $CODE = 200 ] || [ $CODE = 201 ]"
check "zip bomb entries refused as too large" is "$(jqb '[.refused[]|select(.reason=="too_large")]|length>0')" true
arch "$A/tar_gnu-sparse-big.tar"; check "sparse 60 GB tar: too_large" is "$(jqb '.refused[0].reason')" too_large
check "bomb left no blob behind" bash -c "[ \$(find '$DAM_DATA/blobs' -type f -size +3M | wc -l) = 0 ]"

arch "$A/readme.notzip"; check "not an archive: 415" code_is 415
check "not an archive: problem+json" is "$(header content-type)" application/problem+json
for a in tar_issue10968.tar tar_neg-size.tar; do
	arch "$A/$a"; check "corrupt $a: 4xx" bash -c "[ $CODE -ge 400 ] && [ $CODE -lt 500 ]"
done
head -c 100 "$A/valid_test.zip" >"$TMP/cut.zip"
arch "$TMP/cut.zip"; check "truncated zip: 4xx" bash -c "[ $CODE -ge 400 ] && [ $CODE -lt 500 ]"
req POST "$DAM/v1/assets/archive"; check "empty archive body: 400" code_is 400
check "spooled archives removed" bash -c "[ -z \"\$(ls -A '$DAM_DATA/tmp')\" ]"
req GET "$DAM/healthz"; check "alive after hostile archives" code_is 200
