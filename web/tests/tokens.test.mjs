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

test('a new token is listed at once; a name in use or with other characters is refused', async () => {
  const { page } = b;
  const console = [];
  page.on('console', (m) => { if (m.type() === 'error') console.push(m.text()); });
  await go(page, '#/tokens');
  const name = page.getByLabel('Name');
  await name.fill('wt-reader');
  await page.getByLabel('Role').selectOption('reader');
  await page.getByRole('button', { name: 'Make token' }).click();
  await page.locator('code.secret[data-daemon="pimd"]').waitFor();
  const secret = await page.locator('code.secret[data-daemon="pimd"]').innerText();
  const row = page.locator('tr[data-token="wt-reader"]');
  await row.waitFor();
  assert.match(await row.innerText(), /reader\s+reader/);
  // making it again would replace its secret; "admin" would replace the bootstrap token
  for (const n of ['wt-reader', 'admin']) {
    await name.fill(n);
    await page.getByRole('button', { name: 'Make token' }).click();
    await page.locator('.field-error', { hasText: `There already is a token named ${n}` }).waitFor();
    assert.equal(await page.locator('code.secret').count(), 0);
  }
  assert.equal(await status(PIM, '/v1/products?limit=1', secret), 200);
  assert.equal(await status(PIM, '/v1/tokens', process.env.TOKEN), 200);
  await name.fill('wt reader');
  assert.equal(await name.evaluate((el) => el.validity.patternMismatch), true);
  assert.deepEqual(console, []);
});
