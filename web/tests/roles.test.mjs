// What each role is shown: the UI asks GET /v1/tokens/self once and leaves
// out what the token's role may not do, as the daemons' routes decide it
// (they stay the authority: a stale role still gets their 403).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAM, DATA, openBrowser, signIn, go, drawn, seedSchema, put, mug, api, makeToken, shot } from './lib.mjs';

let assetId;
before(async () => {
  await seedSchema();
  await put('/v1/products/WT-R1', mug('WT-R1', 'Role mug'));
  await put('/v1/products/WT-R1', mug('WT-R1', 'Role mug, renamed')); // a version to revert to
  const up = await api(DAM, 'POST', '/v1/assets', readFileSync(join(DATA, 'images', 'png-rgba.png')),
    { 'X-Filename': 'roles.png', 'Content-Type': 'application/octet-stream' });
  assetId = up.body.id;
});

// Runs fn(b, page) in a browser signed in with a new token of role (its
// secrets for both daemons; b.name its name), closed afterwards; setup(b)
// runs before the sign-in. b.selfAsked counts the UI's GET
// /v1/tokens/self to pimd.
async function as(role, fn, setup) {
  const t = await makeToken(role);
  const b = await openBrowser();
  try {
    b.selfAsked = 0;
    b.page.on('request', (r) => { if (r.url().endsWith('/v1/tokens/self') && !r.url().startsWith(DAM)) b.selfAsked += 1; });
    if (setup) await setup(b);
    await signIn(b.page, t.pim, t.dam);
    await drawn(b.page, '#/products');
    b.name = t.name;
    await fn(b, b.page);
  } finally {
    await b.close();
  }
}

const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
const button = (page, name) => page.getByRole('button', { name, exact: true });
const editable = (page, scope) => page.locator(`${scope} :is(input, textarea, select):enabled`).count();

test('a reader reads products, assets and imports with nothing to change', () => as('reader', async (b, page) => {
  assert.match(await page.locator('#who').innerText(), new RegExp(`${b.name} \\(reader\\)`));
  assert.equal(await page.getByRole('link', { name: 'New product' }).count(), 0);
  assert.equal(await nav(page, 'Tokens').isHidden(), true);
  assert.equal(await nav(page, 'Imports').isVisible(), true);

  await go(page, '#/products/WT-R1');
  await page.getByRole('note').filter({ hasText: 'can read products but not change them' }).waitFor();
  assert.equal(await page.getByLabel('Name (en_US)').inputValue(), 'Role mug, renamed');
  assert.equal(await editable(page, 'form.product fieldset'), 0);
  for (const name of ['Save', 'Delete', 'Save JSON']) assert.equal(await button(page, name).count(), 0, name);
  await shot(page, 'reader-product');
  await go(page, '#/products/WT-R1/history');
  await page.locator('li[data-version]').first().waitFor();
  assert.equal(await page.getByRole('button', { name: /Revert/ }).count(), 0);
  await go(page, '#/products/new');
  await page.getByRole('note').waitFor();
  assert.equal(await page.getByLabel('SKU').count(), 0);

  await go(page, '#/assets');
  await page.getByRole('note').filter({ hasText: 'can read assets but not change them' }).waitFor();
  assert.equal(await page.getByLabel(/Upload assets/).count(), 0);
  await go(page, `#/assets/${encodeURIComponent(assetId)}`);
  await page.getByRole('note').filter({ hasText: 'can read assets' }).waitFor();
  assert.equal(await editable(page, 'form.asset-meta'), 0);
  for (const name of ['Save', 'Delete']) assert.equal(await button(page, name).count(), 0, name);

  await go(page, '#/imports');
  await page.getByRole('note').filter({ hasText: 'can read imports but not change them' }).waitFor();
  assert.equal(await button(page, 'Import').count(), 0);
  await go(page, '#/completeness');
  assert.equal(b.selfAsked, 1, 'the role is asked once');
  assert.deepEqual(b.errors, []);
}));

test('a designer uploads and edits assets, not products or imports', () => as('designer', async (b, page) => {
  assert.equal(await nav(page, 'Imports').isHidden(), true);
  assert.equal(await nav(page, 'Tokens').isHidden(), true);
  await go(page, '#/assets');
  await page.getByLabel(/Upload assets/).setInputFiles(join(DATA, 'images', 'png-rgba.png'));
  await page.locator('.upload-log').getByText(/stored/).waitFor();
  await go(page, `#/assets/${encodeURIComponent(assetId)}`);
  await button(page, 'Save').waitFor();
  assert.equal(await page.getByLabel('Title').isEnabled(), true);
  // linking an asset adds it to products too, which a designer may not change
  assert.equal(await page.getByLabel(/Also add it to each newly linked product/).count(), 0);
  await page.getByLabel('Title').fill('Shot by a designer');
  await button(page, 'Save').click();
  await page.getByText('Saved', { exact: true }).waitFor();
  assert.equal((await api(DAM, 'GET', `/v1/assets/${encodeURIComponent(assetId)}/meta`)).body.title, 'Shot by a designer');

  await go(page, '#/products/WT-R1');
  await page.getByRole('note').filter({ hasText: 'can read products but not change them' }).waitFor();
  assert.equal(await button(page, 'Save').count(), 0);
  await go(page, '#/imports');
  await page.getByRole('note').filter({ hasText: 'can neither run imports nor read them' }).waitFor();
  assert.deepEqual(b.errors, []);
}));

test('a merchandiser edits products and runs imports, without the tokens page', () => as('merchandiser', async (b, page) => {
  assert.equal(await page.getByRole('link', { name: 'New product' }).count(), 1);
  assert.equal(await nav(page, 'Tokens').isHidden(), true);
  assert.equal(await nav(page, 'Imports').isVisible(), true);
  await go(page, '#/products/WT-R1');
  await button(page, 'Save').waitFor();
  assert.equal(await page.getByRole('note').count(), 0);
  assert.ok(await editable(page, 'form.product fieldset') > 0);
  await go(page, '#/products/WT-R1/history');
  assert.ok(await page.getByRole('button', { name: /Revert/ }).count() > 0);
  await go(page, '#/imports');
  await button(page, 'Import').waitFor();
  await go(page, '#/tokens');
  await page.getByText('Only an administrator manages tokens.').waitFor();
  assert.equal(await button(page, 'Make token').count(), 0);
  // on damd a merchandiser may read assets only
  await go(page, '#/assets');
  assert.equal(await page.getByLabel(/Upload assets/).count(), 0);
  assert.deepEqual(b.errors, []);
}));

test("a role the UI has wrong still gets the server's refusal", () => as('reader', async (b, page) => {
  // the UI is told "merchandiser" for a reader's token
  await go(page, '#/products/WT-R1');
  await button(page, 'Save').click();
  await page.getByRole('alert').filter({ hasText: "this token's role may not do that" }).waitFor();
}, (o) => o.ctx.route('**/v1/tokens/self', (r) => r.fulfill({ json: { name: 'stale', role: 'merchandiser' } }))));
