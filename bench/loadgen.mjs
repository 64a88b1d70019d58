// Fixed-concurrency HTTP client for the cold-rendition row: N workers each
// send one request at a time over keep-alive connections for a fixed time;
// every request's parameters differ, so that no cache can answer it.
//
//   node loadgen.mjs --url TEMPLATE --sources A,B,... --concurrency N
//                    --duration SECONDS [--start K] [--expect webp]
//
// TEMPLATE's {src} {w} {h} {q} {n} are filled from the request counter n:
// src cycles through the sources, then w steps down from 800 (64 values),
// h keeps 4:3, then q steps down from 80 (16 values): 1,024 requests per
// source before a repeat. Workers stop starting requests when the time is
// up; the rate is completed renders over the time until the last one ends.
// Prints one JSON object: requests, errors, seconds, rate, p50_ms, p99_ms,
// bytes, next (the counter to start the following run with), first_error.
import http from 'node:http';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const template = args.url;
const sources = (args.sources || '').split(',').filter(Boolean);
const concurrency = parseInt(args.concurrency || '1', 10);
const duration = parseFloat(args.duration || '10') * 1000;
let counter = parseInt(args.start || '0', 10);
const expectWebp = args.expect === 'webp';
if (!template || !sources.length) {
  console.error('usage: loadgen.mjs --url TEMPLATE --sources A,B --concurrency N --duration S');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const lat = [];
let errors = 0, bytes = 0, firstError = null;

function urlFor(n) {
  const src = sources[n % sources.length];
  const k = Math.floor(n / sources.length);
  const w = 800 - (k % 64);
  const h = Math.round((w * 3) / 4);
  const q = 80 - (Math.floor(k / 64) % 16);
  return template.replace('{src}', encodeURIComponent(src).replace(/%3A/gi, ':')).replace('{w}', w).replace('{h}', h)
    .replace('{q}', q).replace('{n}', n);
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 120000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let err = null;
        if (res.statusCode !== 200) err = `HTTP ${res.statusCode}: ${body.toString('utf8', 0, 200)}`;
        else if (expectWebp && !(body.length > 12 && body.toString('latin1', 0, 4) === 'RIFF' &&
                                 body.toString('latin1', 8, 12) === 'WEBP')) err = 'answer is not WebP';
        resolve({ err, len: body.length });
      });
      res.on('error', (e) => resolve({ err: String(e) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout after 120 s')));
    req.on('error', (e) => resolve({ err: String(e) }));
  });
}

const t0 = performance.now();
const deadline = t0 + duration;
async function worker() {
  while (performance.now() < deadline) {
    const n = counter++;
    const s = performance.now();
    const r = await get(urlFor(n));
    if (r.err) {
      errors++;
      firstError = firstError || r.err;
      if (errors > 20 && errors > lat.length) break; // the server is broken, not slow
      continue;
    }
    lat.push(performance.now() - s);
    bytes += r.len;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const secs = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : null);
agent.destroy();
console.log(JSON.stringify({
  requests: lat.length, errors, seconds: +secs.toFixed(3), rate: +(lat.length / secs).toFixed(3),
  p50_ms: pct(50) && +pct(50).toFixed(2), p99_ms: pct(99) && +pct(99).toFixed(2), bytes,
  next: counter, first_error: firstError,
}));
