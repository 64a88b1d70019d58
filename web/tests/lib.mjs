// Shared by the browser tests: a Chromium page on the UI (started by
// tests/run.sh with PIM, DAM and TOKEN set), API helpers to seed data.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARGS } from './browser.mjs';

export const PIM = process.env.PIM;
export const DAM = process.env.DAM;
export const TOKEN = process.env.TOKEN;
export const DATA = process.env.DATA;
export const SHOTS = process.env.WEB_SHOTS || '';

if (!PIM || !DAM || !TOKEN) throw new Error('run these tests with web/tests/run.sh');

// A fresh browser context and page: on the suite's shared Chromium
// (WEB_BROWSER_WS, see browser.mjs) or, without it, on one launched here
// with its own profile directory. close() ends it.
export async function openBrowser() {
  let ctx;
  let done;
  const opts = { viewport: { width: 1280, height: 860 } };
  if (process.env.WEB_BROWSER_WS) {
    const browser = await chromium.connect(process.env.WEB_BROWSER_WS);
    ctx = await browser.newContext(opts);
    done = () => browser.close();
  } else {
    const dir = mkdtempSync(join(process.env.WEB_TMP || tmpdir(), 'chromium-'));
    ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS, ...opts });
    done = () => rmSync(dir, { recursive: true, force: true });
  }
  ctx.setDefaultTimeout(15000);
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    ctx,
    page,
    errors,
    async close() {
      await ctx.close();
      await done();
    },
  };
}

// Signs in through the form, as a person would (damToken: damd's own
// token, given under "Asset store token").
export async function signIn(page, token = TOKEN, damToken = '') {
  await page.goto(`${PIM}/`);
  await page.getByLabel('Token', { exact: true }).fill(token);
  if (damToken) {
    await page.getByText('Asset store token (if different)').click();
    await page.getByLabel('Asset store token', { exact: true }).fill(damToken);
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
}

let tokens = 0;
// Makes a token of role on both daemons, as an administrator does, under a
// name not used before: {name, pim, dam} (the two secrets).
export async function makeToken(role) {
  tokens += 1;
  const name = `wt-${role}-${process.pid}-${Date.now()}-${tokens}`;
  const out = { name };
  for (const [k, base] of [['pim', PIM], ['dam', DAM]]) {
    const r = await api(base, 'POST', '/v1/tokens', { name, role });
    if (r.status !== 201) throw new Error(`POST /v1/tokens on ${k} gave ${r.status}`);
    out[k] = r.body.token;
  }
  return out;
}

// Waits until the UI has drawn route hash (after a click that navigates:
// a same-document navigation returns before the view is drawn).
export async function drawn(page, hash) {
  await page.waitForFunction((h) => document.getElementById('main').dataset.route === h, hash);
}

// Opens a hash route and waits until the UI has drawn it. Opening the
// route already shown draws it anew (as a reload would).
export async function go(page, hash) {
  // cleared and redrawn in one step: a render still drawing in between
  // (after a save, say) would mark the page shown before this one is
  const same = await page.evaluate((h) => {
    const main = document.getElementById('main');
    if (main) main.dataset.route = '';
    if (location.hash !== h) return false;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return true;
  }, hash);
  if (!same) await page.goto(`${PIM}/${hash}`);
  await page.waitForFunction((h) => document.getElementById('main').dataset.route === h, hash);
}

export async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// api(base, method, path, body?, headers?) → {status, body}
export async function api(base, method, path, body, headers = {}) {
  const h = { Authorization: `Bearer ${TOKEN}`, ...headers };
  let payload = body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    payload = JSON.stringify(body);
    if (!h['Content-Type']) h['Content-Type'] = 'application/json';
  }
  const r = await fetch(base + path, { method, headers: h, body: payload });
  const text = await r.text();
  let j = text;
  try { j = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: j, headers: r.headers };
}

export async function put(path, doc) {
  const r = await api(PIM, 'PUT', path, doc);
  if (r.status >= 300) throw new Error(`PUT ${path} gave ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

// A small schema of our own (the tests do not rely on the starter one):
// en_US/fr_FR, EUR, a "wt_web" channel and a "wt_mug" family.
export async function seedSchema() {
  await put('/v1/locales/en_US', { code: 'en_US' });
  await put('/v1/locales/fr_FR', { code: 'fr_FR' });
  await put('/v1/currencies/EUR', { code: 'EUR' });
  await put('/v1/categories/wt_root', { code: 'wt_root', parent: null });
  await put('/v1/categories/wt_mugs', { code: 'wt_mugs', parent: 'wt_root' });
  await put('/v1/channels/wt_web', { code: 'wt_web', locales: ['en_US', 'fr_FR'], currencies: ['EUR'], category_tree: 'wt_root' });
  await put('/v1/attributes/sku', { code: 'sku', type: 'identifier', localizable: false, scopable: false });
  await put('/v1/attributes/wt_name', { code: 'wt_name', type: 'text', localizable: true, scopable: false, labels: { en_US: 'Name' } });
  await put('/v1/attributes/wt_price', { code: 'wt_price', type: 'price', localizable: false, scopable: true, validation: { decimals: 2, min: '0' }, labels: { en_US: 'Price' } });
  await put('/v1/attributes/wt_gtin', { code: 'wt_gtin', type: 'text', localizable: false, scopable: false, validation: { gtin: true }, labels: { en_US: 'GTIN' } });
  await put('/v1/attributes/wt_images', { code: 'wt_images', type: 'asset_collection', localizable: false, scopable: false, labels: { en_US: 'Images' } });
  await put('/v1/families/wt_mug', {
    code: 'wt_mug', attributes: ['sku', 'wt_name', 'wt_price', 'wt_gtin', 'wt_images'],
    label_attribute: 'wt_name', image_attribute: 'wt_images',
    requirements: { wt_web: ['wt_name', 'wt_price'] },
  });
}

export function mug(sku, name, price = '12.50') {
  return {
    sku, family: 'wt_mug', categories: ['wt_mugs'], enabled: true,
    values: {
      wt_name: [{ locale: 'en_US', channel: null, data: name }],
      wt_price: [{ locale: null, channel: 'wt_web', data: [{ amount: price, currency: 'EUR' }] }],
    },
  };
}

// Every item of a pimd collection (follows next_cursor).
export async function all(path) {
  const out = [];
  let cursor = '';
  for (let i = 0; i < 1000; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api(PIM, 'GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    if (r.status !== 200) throw new Error(`GET ${path} gave ${r.status}`);
    if (Array.isArray(r.body)) return r.body;
    out.push(...r.body.items);
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  return out;
}
