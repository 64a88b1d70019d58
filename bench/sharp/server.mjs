// Peer for row 5: the smallest fair sharp rendition server. For every
// request it reads the source JPEG from disk and renders it afresh — no
// cache (sharp.cache(false)), sharp's default concurrency — doing the work
// damd does for a cold ad-hoc rendition: EXIF auto-rotate, resize, sRGB,
// metadata stripped (sharp's default), WebP out.
//
//   node server.mjs PORT DIR    GET /v1/renditions/NAME?w=&h=&fit=&fmt=webp&q=
//                               renders DIR/NAME; prints "ready port=N"
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';

sharp.cache(false);
const [port, dir] = process.argv.slice(2);
const fits = new Set(['cover', 'contain', 'fill', 'inside', 'outside']);

function fail(res, status, msg) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(msg + '\n');
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://peer');
  const m = /^\/v1\/renditions\/([^/]+)$/.exec(u.pathname);
  if (req.method !== 'GET' || !m) return fail(res, 404, 'no such resource');
  const name = decodeURIComponent(m[1]);
  if (name.includes('/') || name.startsWith('.')) return fail(res, 404, 'no such source');
  const w = parseInt(u.searchParams.get('w') || '0', 10) || null;
  const h = parseInt(u.searchParams.get('h') || '0', 10) || null;
  const fit = u.searchParams.get('fit') || 'inside';
  const q = parseInt(u.searchParams.get('q') || '80', 10);
  if (!fits.has(fit) || (u.searchParams.get('fmt') || 'webp') !== 'webp')
    return fail(res, 400, 'unsupported parameters');
  sharp(path.join(dir, name))
    .rotate()
    .resize(w, h, { fit })
    .webp({ quality: q })
    .toBuffer()
    .then((buf) => {
      res.writeHead(200, { 'Content-Type': 'image/webp', 'Content-Length': buf.length });
      res.end(buf);
    })
    .catch((e) => fail(res, 500, String(e.message)));
});
server.keepAliveTimeout = 120000;
server.listen(parseInt(port, 10), '127.0.0.1', () => {
  console.log(`ready port=${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
