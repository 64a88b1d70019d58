// A parent's page lists its variants: each SKU a link, its values of the
// family's variant axes, its completeness at one channel/locale; the first
// hundred in one request, more on demand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PIM, go, drawn, openBrowser, signIn, seedSchema, put, mug, api, shot } from './lib.mjs';

const tee = (sku, parent, size, colour, price) => ({
  sku, family: 'wt_tee', parent, values: {
    wt_size: [{ locale: null, channel: null, data: size }],
    wt_colour: [{ locale: null, channel: null, data: colour }],
    ...(price ? { wt_price: [{ locale: null, channel: 'wt_web', data: [{ amount: price, currency: 'EUR' }] }] } : {}),
  },
});

let b;
before(async () => {
  await seedSchema();
  await put('/v1/attributes/wt_size', { code: 'wt_size', type: 'text', localizable: false, scopable: false, labels: { en_US: 'Size' } });
  await put('/v1/attributes/wt_colour', { code: 'wt_colour', type: 'text', localizable: false, scopable: false, labels: { en_US: 'Colour' } });
  await put('/v1/families/wt_tee', {
    code: 'wt_tee', attributes: ['sku', 'wt_name', 'wt_price', 'wt_size', 'wt_colour'], label_attribute: 'wt_name',
    variant_axes: ['wt_size', 'wt_colour'], variant_attributes: ['sku', 'wt_size', 'wt_colour', 'wt_price'],
    requirements: { wt_web: ['wt_name', 'wt_price'] },
  });
  const parent = (sku, name) => ({ sku, family: 'wt_tee', values: { wt_name: [{ locale: 'en_US', channel: null, data: name }] } });
  await put('/v1/products/WT-T', parent('WT-T', 'Plain tee'));
  await put('/v1/products/WT-T-S-RED', tee('WT-T-S-RED', 'WT-T', 'S', 'red', '9.00'));
  await put('/v1/products/WT-T-M-BLUE', tee('WT-T-M-BLUE', 'WT-T', 'M', 'blue'));
  await put('/v1/products/WT-T-SOLO', mug('WT-T-SOLO', 'A mug without variants'));
  // more variants than one page holds
  await put('/v1/products/WT-T2', parent('WT-T2', 'Numbered tee'));
  const many = Array.from({ length: 105 }, (_, i) => `WT-T2-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < many.length; i += 15) {
    await Promise.all(many.slice(i, i + 15).map((s) => put(`/v1/products/${s}`, tee(s, 'WT-T2', s.slice(-3), 'grey'))));
  }
  b = await openBrowser();
  await signIn(b.page);
  await drawn(b.page, '#/products');
});
after(async () => { if (b) await b.close(); });

test("a parent lists its variants with links, axis values and completeness", async () => {
  const { page } = b;
  await go(page, '#/products/WT-T');
  const box = page.locator('section.variants');
  assert.equal(await box.getByRole('status').innerText(), '2 variants');
  assert.deepEqual(await box.locator('thead th').allTextContents(), ['SKU', 'Size', 'Colour', 'Completeness']);
  const red = box.locator('tr[data-sku="WT-T-S-RED"]');
  assert.equal(await red.getByRole('link', { name: 'WT-T-S-RED' }).getAttribute('href'), '#/products/WT-T-S-RED');
  assert.equal(await red.locator('td[data-axis="wt_size"]').innerText(), 'S');
  assert.equal(await red.locator('td[data-axis="wt_colour"]').innerText(), 'red');
  assert.equal(await box.locator('tr[data-sku="WT-T-M-BLUE"] td[data-axis="wt_colour"]').innerText(), 'blue');
  // completeness as pimd counts it, for the channel/locale chosen
  const blue = (await api(PIM, 'GET', '/v1/products/WT-T-M-BLUE')).body.completeness;
  const chip = box.locator('tr[data-sku="WT-T-M-BLUE"] .chip');
  await box.getByLabel('Completeness for').selectOption('wt_web/en_US');
  assert.equal(await chip.innerText(), `wt_web/en_US ${blue['wt_web/en_US'].ratio}%`);
  await box.getByLabel('Completeness for').selectOption('wt_web/fr_FR');
  assert.equal(await chip.innerText(), `wt_web/fr_FR ${blue['wt_web/fr_FR'].ratio}%`);
  assert.ok(blue['wt_web/fr_FR'].missing.includes('wt_price'));
  assert.match(await chip.getAttribute('title'), /missing .*wt_price/);
  await shot(page, 'variants');
  // a variant leads back to its parent, and lists no variants itself
  await red.getByRole('link', { name: 'WT-T-S-RED' }).click();
  await drawn(page, '#/products/WT-T-S-RED');
  assert.ok(await page.locator('main a[href="#/products/WT-T"]').count() > 0, 'a link to the parent');
  assert.equal(await page.locator('section.variants').count(), 0);
  assert.deepEqual(b.errors, []);
});

test('a product without variants shows none', async () => {
  await go(b.page, '#/products/WT-T-SOLO');
  await b.page.getByRole('button', { name: 'Save', exact: true }).waitFor();
  assert.equal(await b.page.locator('section.variants').count(), 0);
});

test('a hundred variants come in one request, the rest on demand', async () => {
  const { page } = b;
  const asked = [];
  const seen = (r) => { if (r.url().includes('parent=')) asked.push(r.url()); };
  page.on('request', seen);
  await go(page, '#/products/WT-T2');
  const box = page.locator('section.variants');
  assert.equal(await box.getByRole('status').innerText(), '100 variants so far');
  assert.equal(await box.locator('tbody tr').count(), 100);
  assert.equal(asked.length, 1);
  await box.getByRole('button', { name: 'More variants' }).click();
  await box.getByRole('status').filter({ hasText: '105 variants' }).waitFor();
  assert.equal(await box.locator('tbody tr').count(), 105);
  assert.equal(await box.locator('tr[data-sku="WT-T2-104"] td[data-axis="wt_size"]').innerText(), '104');
  assert.equal(await box.getByRole('button', { name: 'More variants' }).isHidden(), true);
  assert.equal(asked.length, 2);
  page.off('request', seen);
});
