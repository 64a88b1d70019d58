// What a designer sees of renditions: thumbnails in the asset grid and the
// presets on an asset's page, drawn by damd from an uploaded master.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PIM, go, DATA, openBrowser, signIn, shot } from './lib.mjs';

const JPG = join(DATA, 'images', 'jpeg-progressive_telegram.jpg');
const id = `sha256:${createHash('sha256').update(readFileSync(JPG)).digest('hex')}`;

let b;
before(async () => {
  b = await openBrowser();
  await signIn(b.page);
  await b.page.getByRole('heading', { name: 'Products' }).waitFor();
});
after(async () => { if (b) await b.close(); });

const loaded = (page, img) => page.waitForFunction((el) => el.complete && el.naturalWidth > 0, img);

test('an uploaded image shows its thumbnail and its renditions', async () => {
  const { page } = b;
  await go(page, `#/assets`);
  await page.getByLabel(/Upload assets/).setInputFiles(JPG);
  await page.getByRole('button', { name: 'Show in the list' }).click();
  const thumb = page.locator(`li[data-id="${id}"] img`);
  await loaded(page, await thumb.elementHandle());
  const w = await thumb.evaluate((el) => el.naturalWidth);
  const h = await thumb.evaluate((el) => el.naturalHeight);
  assert.ok(w > 0 && w <= 400 && h <= 400, `web-thumb is ${w}x${h}`);
  // the URL carries the preset's tag, so an edited preset is fetched anew
  const cfg = await (await fetch(`${PIM}/v1/ui-config`)).json();
  const tag = cfg.presets.find((p) => p.name === 'web-thumb').tag;
  assert.match(tag, /^[0-9a-f]{8}$/);
  assert.ok((await thumb.getAttribute('src')).endsWith(`/web-thumb?v=${tag}`), 'the thumbnail URL carries the preset tag');
  await page.locator(`li[data-id="${id}"] a`).first().click();
  for (const preset of ['web-thumb', 'web-large']) {
    await loaded(page, await page.locator(`img.r-${preset}`).elementHandle());
  }
  const large = await page.locator('img.r-web-large').evaluate((el) => el.naturalWidth);
  assert.ok(large > w, `web-large (${large} px) is larger than web-thumb (${w} px)`);
  await shot(page, 'renditions');
  assert.deepEqual(b.errors, []);
});
