// An administrator makes a token for a designer on both daemons, sees the
// secrets once, the token works, and revoking it locks it out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PIM, DAM, openBrowser, signIn, go, shot } from './lib.mjs';

let b;
before(async () => {
  b = await openBrowser();
  await signIn(b.page);
  await b.page.getByRole('heading', { name: 'Products' }).waitFor();
});
after(async () => { if (b) await b.close(); });

const status = async (base, path, token) => (await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } })
  .then(async (r) => { await r.arrayBuffer(); return r.status; }));

test('a token made in the UI works on both daemons until revoked', async () => {
  const { page } = b;
  await go(page, '#/tokens');
  await page.getByLabel('Name').fill('wt-designer');
  await page.getByLabel('Role').selectOption('designer');
  await page.getByRole('button', { name: 'Make token' }).click();
  const pimSecret = await page.locator('code.secret[data-daemon="pimd"]').innerText();
  const damSecret = await page.locator('code.secret[data-daemon="damd"]').innerText();
  assert.ok(pimSecret.length >= 32 && damSecret.length >= 32);
  await shot(page, 'tokens');
  assert.equal(await status(DAM, '/v1/assets?limit=1', damSecret), 200);
  assert.equal(await status(PIM, '/v1/products?limit=1', pimSecret), 200);
  await go(page, '#/tokens');
  page.once('dialog', (d) => d.accept());
  await page.locator('tr[data-token="wt-designer"]').getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('Revoked wt-designer').waitFor();
  await page.locator('tr[data-token="wt-designer"]').waitFor({ state: 'detached' });
  assert.equal(await status(DAM, '/v1/assets?limit=1', damSecret), 401);
  assert.equal(await status(PIM, '/v1/products?limit=1', pimSecret), 401);
  assert.deepEqual(b.errors, []);
});
