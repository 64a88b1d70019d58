// A merchandiser's day with products: find them, edit one, get a 422 shown
// next to the field at fault, look at the history and revert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PIM, go, drawn, openBrowser, signIn, seedSchema, put, mug, api, shot } from './lib.mjs';

let b;
before(async () => {
  await seedSchema();
  await put('/v1/products/WT-P1', mug('WT-P1', 'Blue enamel mug', '9.90'));
  await put('/v1/products/WT-P2', mug('WT-P2', 'Café crème cup', '14.00'));
  // a family whose variants set only their size and price
  await put('/v1/attributes/wt_size', { code: 'wt_size', type: 'text', localizable: false, scopable: false, labels: { en_US: 'Size' } });
  await put('/v1/families/wt_mugv', {
    code: 'wt_mugv', attributes: ['sku', 'wt_name', 'wt_price', 'wt_size'], label_attribute: 'wt_name',
    variant_axes: ['wt_size'], variant_attributes: ['sku', 'wt_size', 'wt_price'],
  });
  await put('/v1/products/WT-V', { sku: 'WT-V', family: 'wt_mugv', values: { wt_name: [{ locale: 'en_US', channel: null, data: 'Striped mug' }] } });
  await put('/v1/products/WT-V-L', { sku: 'WT-V-L', family: 'wt_mugv', parent: 'WT-V', values: { wt_size: [{ locale: null, channel: null, data: 'L' }] } });
  // a number attribute, one product holding it as a JSON integer (as some feeds do)
  await put('/v1/attributes/wt_litres', { code: 'wt_litres', type: 'number', localizable: false, scopable: false, validation: { decimals: 2 }, labels: { en_US: 'Capacity' } });
  await put('/v1/families/wt_jug', { code: 'wt_jug', attributes: ['sku', 'wt_name', 'wt_litres'], label_attribute: 'wt_name' });
  await put('/v1/products/WT-J1', { sku: 'WT-J1', family: 'wt_jug', values: {} });
  await put('/v1/products/WT-J2', { sku: 'WT-J2', family: 'wt_jug', values: { wt_litres: [{ locale: null, channel: null, data: 2 }] } });
  b = await openBrowser();
  await signIn(b.page);
  await b.page.getByRole('heading', { name: 'Products' }).waitFor();
});
after(async () => { if (b) await b.close(); });

test('a wrong token is refused with a message', async () => {
  const o = await openBrowser();
  try {
    await signIn(o.page, 'not-a-token');
    await o.page.getByText('did not accept this token').waitFor();
    assert.equal(await o.page.evaluate(() => localStorage.getItem('hub.token')), null);
  } finally {
    await o.close();
  }
});

test('the list shows products and searches folded text', async () => {
  const { page } = b;
  await go(page, '#/products?q=enamel');
  assert.match(await page.locator('tr[data-sku="WT-P1"]').innerText(), /Blue enamel mug/);
  await page.getByLabel('Search').fill('CAFE CREME');
  await page.getByRole('button', { name: 'Search' }).click();
  await drawn(page, '#/products?q=CAFE+CREME');
  assert.match(await page.locator('tr[data-sku="WT-P2"]').innerText(), /Café crème cup/);
  assert.equal(await page.locator('tr[data-sku="WT-P1"]').count(), 0);
  await shot(page, 'products');
});

test('editing a product saves a new version', async () => {
  const { page } = b;
  const before = (await api(PIM, 'GET', '/v1/products/WT-P1')).body.version;
  await go(page, `#/products/WT-P1`);
  const name = page.getByLabel('Name (en_US)');
  await name.fill('Blue enamel mug, 350 ml');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved WT-P1').waitFor();
  await page.getByRole('heading', { name: /Blue enamel mug, 350 ml/ }).waitFor();
  const r = await api(PIM, 'GET', '/v1/products/WT-P1');
  assert.equal(r.body.values.wt_name.find((v) => v.locale === 'en_US').data, 'Blue enamel mug, 350 ml');
  assert.equal(r.body.version, before + 1);
});

test('a 422 is shown next to the field it names and nothing is saved', async () => {
  const { page } = b;
  const before = (await api(PIM, 'GET', '/v1/products/WT-P2')).body.version;
  await go(page, `#/products/WT-P2`);
  const gtin = page.getByLabel('GTIN (all)');
  await gtin.fill('4006381333932'); // wrong check digit
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const err = page.locator('fieldset[data-attr="wt_gtin"] .field-error');
  await err.waitFor();
  assert.ok((await err.innerText()).length > 3, 'the GTIN error has a message');
  assert.equal(await gtin.getAttribute('aria-invalid'), 'true');
  await page.getByText(/nothing was saved/).waitFor();
  await shot(page, 'product-422');
  const r = await api(PIM, 'GET', '/v1/products/WT-P2');
  assert.equal(r.body.version, before);
  assert.equal(r.body.values.wt_gtin, undefined);
});

test('saving an untouched product makes no new version', async () => {
  const { page } = b;
  const before = (await api(PIM, 'GET', '/v1/products/WT-P2')).body.version;
  await go(page, `#/products/WT-P2`);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved WT-P2').waitFor();
  assert.equal((await api(PIM, 'GET', '/v1/products/WT-P2')).body.version, before);
});

test('a save over someone else\'s newer version is refused, not lost', async () => {
  const { page } = b;
  await go(page, `#/products/WT-P2`);
  const other = mug('WT-P2', 'Café crème cup (renamed elsewhere)', '14.00');
  await put('/v1/products/WT-P2', other);
  const before = (await api(PIM, 'GET', '/v1/products/WT-P2')).body.version;
  await page.getByLabel('Name (en_US)').fill('Café crème cup, large');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText(/Someone else changed this product/).waitFor();
  const r = await api(PIM, 'GET', '/v1/products/WT-P2');
  assert.equal(r.body.version, before);
  assert.equal(r.body.values.wt_name[0].data, 'Café crème cup (renamed elsewhere)');
  // their version is one click away
  await page.getByRole('button', { name: 'Show their version' }).click();
  await page.getByRole('heading', { name: /renamed elsewhere/ }).waitFor();
  assert.equal(await page.getByLabel('Name (en_US)').inputValue(), 'Café crème cup (renamed elsewhere)');
});

test('the history lists versions and reverts to one', async () => {
  const { page } = b;
  // the version before the edit above held the original name
  const v = (await api(PIM, 'GET', '/v1/products/WT-P1')).body.version;
  await go(page, `#/products/WT-P1/history`);
  await page.locator(`li[data-version="${v}"]`).waitFor();
  assert.equal(await page.locator(`li[data-version="${v - 1}"]`).count(), 1);
  assert.match(await page.locator(`li[data-version="${v}"]`).innerText(), /wt_name/);
  await page.getByRole('button', { name: `Revert to version ${v - 1}` }).click();
  await page.getByText(`Reverted WT-P1 to version ${v - 1}`).waitFor();
  await page.getByRole('heading', { name: /^Blue enamel mug WT-P1$/ }).waitFor();
  const r = await api(PIM, 'GET', '/v1/products/WT-P1');
  assert.equal(r.body.values.wt_name.find((v) => v.locale === 'en_US').data, 'Blue enamel mug');
});

test('a variant shows what it inherits locked, with the way to its parent', async () => {
  const { page } = b;
  await go(page, '#/products/WT-V-L');
  const name = page.getByLabel('Name (en_US)', { exact: true });
  assert.equal(await name.inputValue(), 'Striped mug');
  assert.ok(await name.isDisabled(), 'a variant of wt_mugv cannot set its name');
  await page.locator('fieldset[data-attr="wt_name"]').getByRole('link', { name: 'WT-V' }).waitFor();
  assert.ok(await page.getByLabel('Size (all)', { exact: true }).isEditable());
  await page.getByLabel('Size (all)', { exact: true }).fill('XL');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved WT-V-L').waitFor();
  const r = await api(PIM, 'GET', '/v1/products/WT-V-L');
  assert.equal(r.body.version, 2);
  assert.deepEqual(r.body.values, { wt_size: [{ locale: null, channel: null, data: 'XL' }] });
});

test('the history shows changed values as text, not as JSON', async () => {
  const { page } = b;
  await put('/v1/products/WT-H1', mug('WT-H1', 'Tea mug', '8.00'));
  await put('/v1/products/WT-H1', mug('WT-H1', 'Tea mug, blue', '8.50'));
  await go(page, '#/products/WT-H1/history');
  const v2 = page.locator('li[data-version="2"]');
  const row = (path) => v2.locator('tr', { has: page.locator('code', { hasText: new RegExp(`^${path}$`) }) });
  assert.equal(await row('/values/wt_name').locator('td.old').innerText(), 'en_US: Tea mug');
  assert.equal(await row('/values/wt_name').locator('td.new').innerText(), 'en_US: Tea mug, blue');
  assert.equal(await row('/values/wt_price').locator('td.new').innerText(), 'wt_web: 8.50 EUR');
});

test('a very long name or SKU wraps instead of widening the page', async () => {
  const { page } = b;
  const sku = `WT-L${'X'.repeat(190)}`;
  await put(`/v1/products/${sku}`, mug(sku, 'Überlanger'.repeat(25)));
  await go(page, `#/products/${sku}`);
  const wide = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(wide[0] <= wide[1], `the page is ${wide[0]}px wide in a ${wide[1]}px window`);
});

test('a number with decimals is saved; a stored integer left alone stays one', async () => {
  const { page } = b;
  await go(page, '#/products/WT-J1');
  await page.getByLabel('Capacity (all)').fill('1.25');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved WT-J1').waitFor();
  assert.deepEqual((await api(PIM, 'GET', '/v1/products/WT-J1')).body.values.wt_litres[0].data, '1.25');
  await go(page, '#/products/WT-J2');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved WT-J2').waitFor();
  const j2 = (await api(PIM, 'GET', '/v1/products/WT-J2')).body;
  assert.equal(j2.version, 1);
  assert.equal(j2.values.wt_litres[0].data, 2);
});

test('a new product cannot take a SKU in use or one the schema refuses', async () => {
  const { page } = b;
  const before = await api(PIM, 'GET', '/v1/products/WT-P2');
  await go(page, '#/products/new');
  const sku = page.getByLabel('SKU');
  await page.getByLabel('Family').selectOption('wt_mug');
  for (const [code, why] of [['WT-P2', /already is a product WT-P2/], ['WT P/4', /cannot hold spaces/]]) {
    await sku.fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.field-error', { hasText: why }).waitFor();
    assert.equal(await sku.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('button', { name: 'Create product' }).count(), 0);
  }
  const after = await api(PIM, 'GET', '/v1/products/WT-P2');
  assert.equal(after.body.version, before.body.version);
});

test('a new product never replaces one made while its form was open', async () => {
  const { page } = b;
  await go(page, '#/products/new');
  await page.getByLabel('SKU').fill('WT-P5');
  await page.getByLabel('Family').selectOption('wt_mug');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Name (en_US)').fill('Mug typed here');
  await put('/v1/products/WT-P5', mug('WT-P5', 'Mug made elsewhere'));
  await page.getByRole('button', { name: 'Create product' }).click();
  await page.getByText('Someone else made a product WT-P5 meanwhile').waitFor();
  const r = await api(PIM, 'GET', '/v1/products/WT-P5');
  assert.equal(r.body.version, 1);
  assert.equal(r.body.values.wt_name[0].data, 'Mug made elsewhere');
});

test('a new product is created from its family form', async () => {
  const { page } = b;
  await go(page, `#/products/new`);
  await page.getByLabel('SKU').fill('WT-P3');
  await page.getByLabel('Family').selectOption('wt_mug');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Name (en_US)').fill('Green mug');
  await page.getByLabel('Price (wt_web) EUR').fill('11.00');
  await page.getByRole('button', { name: 'Create product' }).click();
  await page.getByText('Created WT-P3').waitFor();
  const r = await api(PIM, 'GET', '/v1/products/WT-P3');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.values.wt_price[0].data, [{ amount: '11.00', currency: 'EUR' }]);
  assert.deepEqual(b.errors, []);
});
