#!/usr/bin/env bash
# Where a cold rendition's CPU goes, in Debian's libvips (which damd links)
# and in the libvips sharp brings from npm, in the same run: decode with
# shrink-on-load and resize to cover 800x600, then the WebP encode (Q 80,
# effort 4), one render at a time, over row 5's six 12-megapixel JPEGs.
# Both sides do the same work; the figures say how much of row 5's ratio
# the libraries allow.
#
#   bench/render_steps.sh [ROUNDS]     default 5 (30 renders a side, ~10 s)
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
WORK=${BENCH_WORK:-$BENCH/scratch}
DATA=${DATA:-$ROOT/../shared/data}
ROUNDS=${1:-5}
mkdir -p "$WORK" || exit 1

sources=$(python3 "$BENCH/gen_media.py" "$DATA/images" "$WORK/media" --quick) || exit 1
files=$(for s in $sources; do echo "$WORK/media/sources/$s"; done)
if [ ! -x "$WORK/render_steps" ] || [ "$BENCH/render_steps.c" -nt "$WORK/render_steps" ]; then
	# shellcheck disable=SC2046
	cc -O2 -o "$WORK/render_steps" "$BENCH/render_steps.c" $(pkg-config --cflags --libs vips) || exit 1
fi
if [ ! -d "$BENCH/sharp/node_modules/sharp" ]; then
	(cd "$BENCH/sharp" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi

# shellcheck disable=SC2086
ours=$("$WORK/render_steps" "$ROUNDS" 800 600 80 $files) || exit 1
# shellcheck disable=SC2086
peer=$(cd "$BENCH/sharp" && node steps.mjs "$ROUNDS" 800 600 80 $files) || exit 1
python3 - "$ours" "$peer" <<'PY'
import json, sys
o, p = (json.loads(a) for a in sys.argv[1:3])
print(f"CPU ms per render, {o['renders']} renders a side: Debian libvips {o['vips']} (damd) / sharp's libvips {p['vips']}")
for k, name in (("decode_ms", "decode + resize"), ("encode_ms", "WebP encode")):
    print(f"  {name:16} {o[k]:6.1f} / {p[k]:6.1f}  ({o[k] / p[k]:.2f}x)")
to, tp = o["decode_ms"] + o["encode_ms"], p["decode_ms"] + p["encode_ms"]
print(f"  {'a render':16} {to:6.1f} / {tp:6.1f}  ({to / tp:.2f}x)")
PY
