// A designer's flow: upload images (one with a non-ASCII name), describe
// one and link it to a product by SKU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { PIM, go, drawn, DAM, DATA, TOKEN, openBrowser, signIn, seedSchema, put, mug, api, shot } from './lib.mjs';

const PNG = join(DATA, 'images', 'png-rgba.png');
const JPG = join(DATA, 'images', 'maracujá.jpg');
const idOf = (f) => `sha256:${createHash('sha256').update(readFileSync(f)).digest('hex')}`;

let b;
before(async () => {
  await seedSchema();
  await put('/v1/products/WT-A1', mug('WT-A1', 'Passion fruit mug'));
  b = await openBrowser();
  await signIn(b.page);
  await b.page.getByRole('heading', { name: 'Products' }).waitFor();
});
after(async () => { if (b) await b.close(); });

test('uploaded images are stored and listed', async () => {
  const { page } = b;
  await go(page, `#/assets`);
  await page.getByLabel(/Upload assets/).setInputFiles([PNG, JPG]);
  const log = page.locator('.upload-log');
  await page.getByRole('button', { name: 'Show in the list' }).waitFor();
  assert.match(await log.innerText(), /png-rgba\.png\s+(stored|already stored)/);
  assert.match(await log.innerText(), /maracujá\.jpg\s+(stored|already stored)/);
  await page.getByRole('button', { name: 'Show in the list' }).click();
  for (const f of [PNG, JPG]) await page.locator(`li[data-id="${idOf(f)}"] img`).waitFor();
  assert.match(await page.locator(`li[data-id="${idOf(JPG)}"]`).innerText(), /maracujá\.jpg/);
  await shot(page, 'assets');
});

test('alt text, tags and a SKU link are saved; the product gets the image', async () => {
  const { page } = b;
  const id = idOf(PNG);
  await go(page, `#/assets`);
  await page.locator(`li[data-id="${id}"] a`).first().click();
  await page.getByLabel('en_US').fill('A translucent test pattern');
  await page.getByLabel('Tags').fill('test, pattern');
  await page.getByLabel('Linked SKUs').fill('WT-A1');
  await page.locator('.preview').click({ position: { x: 10, y: 10 } });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Added to the images of WT-A1').waitFor();
  await page.locator('ul.linked a', { hasText: 'WT-A1' }).waitFor();
  await shot(page, 'asset');
  const meta = await api(DAM, 'GET', `/v1/assets/${id}/meta`);
  assert.equal(meta.body.alt.en_US, 'A translucent test pattern');
  assert.deepEqual(meta.body.tags, ['test', 'pattern']);
  assert.deepEqual(meta.body.skus, ['WT-A1']);
  assert.ok(meta.body.focal_point && meta.body.focal_point.x < 0.5);
  const p = await api(PIM, 'GET', '/v1/products/WT-A1');
  assert.deepEqual(p.body.values.wt_images[0].data, [id]);
  // the product page shows it
  await go(page, `#/products/WT-A1`);
  await page.locator(`fieldset[data-attr="wt_images"] img`).waitFor();
  assert.deepEqual(b.errors, []);
});

test('a saved title becomes the heading', async () => {
  const { page } = b;
  await go(page, `#/assets/${idOf(JPG)}`);
  await page.getByLabel('Title').fill('Passion fruit, cut — 百香果');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { level: 1, name: 'Passion fruit, cut — 百香果' }).waitFor();
});

test('a deleted asset says so and offers nothing to edit', async () => {
  const { page } = b;
  const file = join(DATA, 'images', 'png-palette-trns_tbbn3p08.png');
  const up = await api(DAM, 'POST', '/v1/assets', readFileSync(file), { 'X-Filename': 'gone.png', 'Content-Type': 'application/octet-stream' });
  assert.ok(up.status === 201 || up.status === 200);
  assert.equal((await api(DAM, 'DELETE', `/v1/assets/${up.body.id}`)).status, 204);
  await go(page, `#/assets/${up.body.id}`);
  await page.getByText(/^Deleted .*Uploading the same file again brings it back\.$/).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0);
});

test('expired rights are shown on the asset and in the list, and go once extended', async () => {
  const { page } = b;
  const file = join(DATA, 'images', 'webp-lossy-alpha.webp');
  const up = await api(DAM, 'POST', '/v1/assets', readFileSync(file), { 'X-Filename': 'expiring.webp', 'Content-Type': 'application/octet-stream' });
  const r = await api(DAM, 'PATCH', `/v1/assets/${up.body.id}/meta`, { rights: { expires: '2020-01-31' } },
    { 'Content-Type': 'application/merge-patch+json' });
  assert.equal(r.status, 200);
  await go(page, '#/assets?q=expiring');
  assert.match(await page.locator(`li[data-id="${up.body.id}"]`).innerText(), /rights expired/);
  await go(page, `#/assets/${up.body.id}`);
  const note = page.getByText('The rights expired on 2020-01-31: channels no longer show this asset.');
  await note.waitFor();
  await page.getByLabel('Expires').fill('2999-12-31');
  await page.getByRole('button', { name: 'Save' }).click();
  await note.waitFor({ state: 'hidden' });
});

test('with damd unreachable, uploads and the asset page say so', async () => {
  const { page } = b;
  await go(page, '#/assets');
  await page.route(`${DAM}/**`, (r) => r.abort('connectionrefused'));
  try {
    await page.getByLabel(/Upload assets/).setInputFiles(join(DATA, 'images', 'png-palette_indexed.png'));
    const line = page.locator('.upload-log > li', { hasText: 'png-palette_indexed.png' });
    await line.locator('.bad').waitFor();
    assert.equal(await line.locator('.bad').innerText(), `not sent: cannot reach ${DAM}`);
    await go(page, `#/assets/${idOf(PNG)}`);
    await page.getByRole('heading', { level: 1, name: 'Asset' }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`The asset store at ${DAM} is not reachable`));
  } finally {
    await page.unroute(`${DAM}/**`);
  }
});

test('a filter by SKU finds the linked asset only', async () => {
  const { page } = b;
  await go(page, `#/assets?sku=WT-A1`);
  await page.locator(`li[data-id="${idOf(PNG)}"]`).waitFor();
  assert.equal(await page.locator(`li[data-id="${idOf(JPG)}"]`).count(), 0);
});

// Uploads a zip made of entries {name: sample image file | text} through
// the assets page; resolves to its line in the upload log once it is done.
async function uploadZip(page, name, entries) {
  const zip = join(process.env.WEB_TMP, name);
  execFileSync('python3', ['-c', `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for arc, src in json.loads(sys.argv[2]).items():
        if src.get("file"): z.write(src["file"], arc)
        else: z.writestr(arc, src["text"])
`, zip, JSON.stringify(entries)]);
  await go(page, '#/assets');
  await page.getByLabel(/Upload assets/).setInputFiles(zip);
  const line = page.locator('.upload-log > li', { hasText: name });
  await line.locator('.ok').waitFor();
  return line;
}
const image = (f) => ({ file: join(DATA, 'images', f) });

test('an archive upload reports stored and refused entries', async () => {
  const line = await uploadZip(b.page, 'wt-pack.zip', {
    'pack/one.webp': image('webp-lossy.webp'),
    'pack/two.gif': image('gif-cogs.gif'),
    '../evil.png': { text: 'not stored' },
  });
  assert.match(await line.innerText(), /2 stored/);
  assert.match(await line.innerText(), /1 refused/);
  assert.match(await line.innerText(), /\.\.\/evil\.png/);
});

test('an archive with nothing refused says only how many were stored', async () => {
  const line = await uploadZip(b.page, 'wt-clean.zip', {
    'clean/one.webp': image('webp-lossless.webp'),
    'clean/two.png': image('png-palette_indexed.png'),
  });
  assert.equal((await line.innerText()).trim(), 'wt-clean.zip 2 stored');
});

test('a refused asset store token is reported until a sign-in that damd accepts', async () => {
  const o = await openBrowser();
  try {
    const { page } = o;
    await page.goto(`${PIM}/`);
    await page.getByLabel('Token', { exact: true }).fill(TOKEN);
    await page.getByText('Asset store token (if different)').click();
    await page.getByLabel('Asset store token', { exact: true }).fill('not-a-damd-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await drawn(page, '#/products');
    await go(page, '#/assets');
    assert.match(await page.locator('main').innerText(), /did not accept this token/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page);
    await drawn(page, '#/products');
    await go(page, '#/assets');
    assert.doesNotMatch(await page.locator('main').innerText(), /did not accept|not reachable/);
  } finally {
    await o.close();
  }
});
