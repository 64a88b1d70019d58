// Completeness per channel/locale: counts, and the products that miss
// required values with what they miss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PIM, openBrowser, signIn, seedSchema, put, mug, all, shot, go, drawn } from './lib.mjs';

let b;
before(async () => {
  await seedSchema();
  await put('/v1/products/WT-C1', mug('WT-C1', 'Complete mug'));
  const incomplete = mug('WT-C2', 'Mug without a price');
  delete incomplete.values.wt_price;
  await put('/v1/products/WT-C2', incomplete);
  await put('/v1/products/WT-CV', { sku: 'WT-CV', family: 'wt_mug', parent: 'WT-C2', values: {} });
  b = await openBrowser();
  await signIn(b.page);
  await b.page.getByRole('heading', { name: 'Products' }).waitFor();
});
after(async () => { if (b) await b.close(); });

test('the table counts complete products and lists what is missing', async () => {
  const { page } = b;
  const products = await all('/v1/products');
  const at = (p) => p.completeness && p.completeness['wt_web/en_US'];
  const counted = products.filter(at);
  const complete = counted.filter((p) => at(p).ratio === 100);
  await page.getByRole('link', { name: 'Completeness' }).click();
  const row = page.locator('tr[data-key="wt_web/en_US"]');
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`${complete.length} of ${counted.length}`));
  assert.match(await row.innerText(), /wt_price/);
  await row.getByRole('link').click();
  const detail = page.locator('section.detail');
  await detail.getByRole('link', { name: 'WT-C2' }).waitFor();
  assert.match(await detail.innerText(), /wt_price/);
  assert.equal(await detail.getByRole('link', { name: 'WT-C1' }).count(), 0);
  // a variant goes by its parent's name
  const variant = detail.locator('tr', { has: page.getByRole('link', { name: 'WT-CV' }) });
  assert.equal(await variant.locator('td').nth(1).innerText(), 'Mug without a price');
  await shot(page, 'completeness');
  await detail.getByRole('link', { name: 'WT-C2' }).click();
  await page.locator('fieldset[data-attr="wt_price"] .missing').waitFor();
});

test('the channel preview shows what frontends get, or why not', async () => {
  const { page } = b;
  await go(page, '#/products/WT-C1/preview?at=wt_web/en_US');
  const card = page.locator('article.preview-card');
  await card.waitFor();
  assert.match(await card.innerText(), /Complete mug/);
  assert.match(await card.innerText(), /12\.50 EUR/);
  await go(page, '#/products/WT-C2/preview?at=wt_web/en_US');
  assert.match(await page.locator('[data-published="false"]').innerText(), /Not published on wt_web\/en_US: it misses wt_price/);
  await page.getByLabel('Channel / locale').selectOption('wt_web/fr_FR');
  await drawn(page, '#/products/WT-C2/preview?at=wt_web%2Ffr_FR');
  assert.match(await page.locator('[data-published="false"]').innerText(), /wt_web\/fr_FR/);
  assert.deepEqual(b.errors, []);
});

test('a schema change still being worked off is announced until it is done', async () => {
  const { page } = b;
  let queued = [{ scope: 'family', code: 'wt_mugs', after: 'WT-C1' }];
  // pimd works off a real queue in moments: this holds it for the page
  await page.route('**/v1/schema-refresh', (r) => (queued.length
    ? r.fulfill({ contentType: 'application/json', body: JSON.stringify({ queued }) })
    : r.continue()));
  await go(page, '#/products/WT-C2');
  await page.locator('p.notice[role="status"]').waitFor();
  assert.match(await page.locator('p.notice').innerText(), /figures below may change/);
  await go(page, '#/completeness');
  const notice = page.locator('p.notice[role="status"]');
  await notice.waitFor();
  assert.match(await notice.innerText(), /recomputed after a change of family wt_mugs/);
  await shot(page, 'completeness-refreshing');
  queued = []; // now the real answer: nothing left
  await page.locator('p.notice[data-state="done"]').waitFor();
  await notice.getByRole('button', { name: 'Show the new figures' }).click();
  await page.locator('p.notice').waitFor({ state: 'hidden' });
  await page.locator('tr[data-key="wt_web/en_US"]').waitFor();
  await page.unrouteAll();

  await go(page, '#/products');
  await page.locator('table tr[data-sku="WT-C1"]').waitFor();
  assert.equal(await page.locator('p.notice').isVisible(), false, 'no notice without a queue');
  assert.deepEqual(b.errors, []);
});
