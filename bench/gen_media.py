#!/usr/bin/env python3
"""Makes the media the rendition and upload rows use, from the real photos in
../shared/data/images (deterministic: same inputs, same bytes).

  gen_media.py IMAGES_DIR OUT_DIR [--quick]

OUT_DIR/sources/src-N.jpg   12-megapixel JPEGs (4032x3024 and 4000x3000), each
                            a different variant or crop of a real photo
OUT_DIR/uploads/big-N.tif   large uncompressed TIFFs (an upscaled photo), each
                            with a few different pixel bytes so that none
                            deduplicates against another
OUT_DIR/archive.zip         1,000 small JPEGs (stored, not deflated), each with
                            its own JPEG comment so that all are distinct
Files already made are kept: a second run costs nothing.
"""
import os
import shutil
import struct
import subprocess
import sys
import zipfile


def vips(*args):
    subprocess.run(["vips", *map(str, args)], check=True)


def made(path):
    return os.path.exists(path) and os.path.getsize(path) > 0


def sources(images, out):
    os.makedirs(out, exist_ok=True)
    heic = os.path.join(images, "large_iphone7_4032x3024.heic")
    jpg = os.path.join(images, "large_6720x4480_progressive.jpg")
    base = os.path.join(out, "base.v")
    specs = [
        ("src-1.jpg", ["copy", base], 92),
        ("src-2.jpg", ["flip", base, None, "horizontal"], 90),
        ("src-3.jpg", ["flip", base, None, "vertical"], 88),
        ("src-4.jpg", ["rot", base, None, "d180"], 91),
        ("src-5.jpg", ["crop", jpg, None, 0, 0, 4000, 3000], 90),
        ("src-6.jpg", ["crop", jpg, None, 2720, 1480, 4000, 3000], 90),
    ]
    if not all(made(os.path.join(out, s[0])) for s in specs):
        vips("copy", heic, base)
    for name, op, q in specs:
        dst = os.path.join(out, name)
        if made(dst):
            continue
        cmd = list(op)
        target = f"{dst}.tmp.jpg[Q={q},strip]"
        if None in cmd:
            cmd[cmd.index(None)] = target
        else:
            cmd.append(target)
        vips(*cmd)
        os.replace(dst + ".tmp.jpg", dst)
    if os.path.exists(base):
        os.remove(base)
    return sorted(n for n in os.listdir(out) if n.endswith(".jpg"))


def uploads(src, out, count):
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, "base.tif")
    names = [f"big-{i}.tif" for i in range(1, count + 1)]
    if all(made(os.path.join(out, n)) for n in names):
        return names
    if not made(base):
        vips("resize", src, base + ".tmp.tif", 2.5)
        os.replace(base + ".tmp.tif", base)
    size = os.path.getsize(base)
    for i, n in enumerate(names, 1):
        dst = os.path.join(out, n)
        if made(dst):
            continue
        shutil.copyfile(base, dst + ".tmp")
        with open(dst + ".tmp", "r+b") as f:
            f.seek(size // 2)
            f.write(struct.pack("<16s", f"bench-upload-{i}".encode()))
        os.replace(dst + ".tmp", dst)
    os.remove(base)
    return names


def archive(src, path, count):
    if made(path):
        return
    small = path + ".small.jpg"
    vips("thumbnail", src, small + "[Q=82,strip]", 640)
    with open(small, "rb") as f:
        data = f.read()
    os.remove(small)
    assert data[:2] == b"\xff\xd8"
    with zipfile.ZipFile(path + ".tmp", "w", zipfile.ZIP_STORED) as z:
        for i in range(1, count + 1):
            note = f"bench image {i}".encode()
            com = b"\xff\xfe" + struct.pack(">H", len(note) + 2) + note
            z.writestr(f"images/product-{i:04d}.jpg", data[:2] + com + data[2:])
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    images, out = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv[3:]
    srcs = sources(images, os.path.join(out, "sources"))
    ups = uploads(os.path.join(out, "sources", srcs[0]), os.path.join(out, "uploads"),
                  2 if quick else 4)
    archive(os.path.join(out, "sources", srcs[0]), os.path.join(out, "archive.zip"), 1000)
    print(" ".join(srcs))


if __name__ == "__main__":
    main()
