// The same two steps as ../render_steps.c, in sharp's own libvips, one
// render at a time (sharp.concurrency(1)): decode, resize to cover WxH and
// crop, to raw pixels; then the WebP encode of those pixels. Process CPU
// time per render, in ms.
//
//   node steps.mjs ROUNDS W H Q FILE...   prints {"decode_ms":…,"encode_ms":…}
import sharp from 'sharp';

sharp.cache(false);
sharp.concurrency(1);
const [rounds, w, h, q] = process.argv.slice(2, 6).map(Number);
const files = process.argv.slice(6);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let dec = 0, enc = 0, n = 0;
for (let r = 0; r < rounds; r++) {
  for (const f of files) {
    const t0 = cpu();
    const { data, info } = await sharp(f).resize(w, h).raw().toBuffer({ resolveWithObject: true });
    const t1 = cpu();
    await sharp(data, { raw: info }).webp({ quality: q, effort: 4 }).toBuffer();
    enc += cpu() - t1;
    dec += t1 - t0;
    n++;
  }
}
console.log(JSON.stringify({ vips: sharp.versions.vips, renders: n,
  decode_ms: +(dec / n).toFixed(1), encode_ms: +(enc / n).toFixed(1) }));
