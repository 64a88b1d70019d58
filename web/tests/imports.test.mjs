// Importing a feed as a person does: pick the file, watch the job, read
// the counts and the message of the line that failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PIM, DATA, openBrowser, signIn, seedSchema, api, shot, drawn } from './lib.mjs';

const AKENEO = fileURLToPath(new URL('../../tests/data/akeneo-submodels', import.meta.url));

let b;
let csv;
before(async () => {
  await seedSchema();
  csv = join(process.env.WEB_TMP, 'wt-feed.csv');
  writeFileSync(csv, [
    'sku,family,categories,enabled,wt_name-en_US,wt_gtin',
    'WT-I1,wt_mug,wt_mugs,1,Imported mug one,4006381333931',
    'WT-I2,wt_mug,wt_mugs,1,Imported mug two,',
    'WT-I3,wt_mug,wt_mugs,1,Imported mug three,4006381333932',
    '',
  ].join('\n'));
  b = await openBrowser();
  await signIn(b.page);
  await b.page.getByRole('heading', { name: 'Products' }).waitFor();
});
after(async () => { if (b) await b.close(); });

// A feed written to the test's temporary directory: its path.
function feedFile(name, text) {
  const path = join(process.env.WEB_TMP, name);
  writeFileSync(path, text);
  return path;
}

// Opens Imports, picks the file, lets fill() set the form's other fields,
// sends it and waits for the job to end: its locator. The job must be done
// unless anyEnd is set.
async function importFeed(page, file, fill = async () => {}, anyEnd = false) {
  await page.getByRole('link', { name: 'Imports' }).click();
  await drawn(page, '#/imports'); // not the form (or the job) of the view before
  await page.getByLabel('Feed file').setInputFiles(file);
  await fill();
  await page.getByRole('button', { name: 'Import' }).click();
  const job = page.locator('.job').first();
  await job.locator(anyEnd ? '.status.done, .status.failed' : '.status.done').waitFor({ timeout: 30000 });
  return job;
}

test('a CSV import reports created rows and the failed line', async () => {
  const { page } = b;
  const job = await importFeed(page, csv, async () => {
    assert.equal(await page.getByLabel('Format').inputValue(), 'csv');
  }, true);
  assert.match(await job.locator('.status').innerText(), /done/i);
  assert.equal(await job.locator('[data-count="created"] .num').innerText(), '2');
  assert.equal(await job.locator('[data-count="failed"] .num').innerText(), '1');
  const row = job.locator('table.errors tbody tr');
  assert.equal(await row.count(), 1);
  assert.equal(await row.locator('td').first().innerText(), '4');
  assert.ok((await row.locator('td').nth(3).innerText()).length > 3, 'the failed line has a message');
  await shot(page, 'import');
  assert.equal((await api(PIM, 'GET', '/v1/products/WT-I1')).status, 200);
  assert.equal((await api(PIM, 'GET', '/v1/products/WT-I3')).status, 404);
  // the job stays reachable from the list of recent imports
  await page.reload();
  await page.locator('.recent tr', { hasText: 'wt-feed.csv' }).first().getByRole('link').click();
  await page.locator('.job [data-count="created"] .num', { hasText: '2' }).waitFor();
  assert.deepEqual(b.errors, []);
});

test('a dry run says what the import would do, here and in the recent list', async () => {
  const { page } = b;
  const feed = feedFile('wt-dry.csv', 'sku,family,wt_name-en_US\nWT-D1,wt_mug,Dry mug\n');
  const job = await importFeed(page, feed, () => page.getByLabel(/Dry run/).check());
  assert.equal(await job.locator('[data-count="created"] .num').innerText(), '1');
  assert.equal(await job.locator('[data-count="created"] .label').textContent(), 'would be created');
  assert.equal((await api(PIM, 'GET', '/v1/products/WT-D1')).status, 404);
  await page.reload();
  const id = await job.getAttribute('data-job');
  await page.locator('.recent tr', { hasText: id }).getByText('dry run').waitFor();
});

test('a job that ends while shown joins the recent imports', async () => {
  const { page } = b;
  const feed = feedFile('wt-recent.csv', 'sku,family,wt_name-en_US\nWT-RC1,wt_mug,Recent mug\n');
  const job = await importFeed(page, feed);
  const id = await job.getAttribute('data-job');
  const row = page.locator('.recent tr', { hasText: id });
  await row.waitFor();
  assert.match(await row.innerText(), /wt-recent\.csv\s+done/i);
});

test('a structure file reports what it wrote; a long problem list says it is cut', async () => {
  const { page } = b;
  let job = await importFeed(page, join(AKENEO, 'families.csv'), () => page.getByLabel('Profile').fill('akeneo'));
  const first = await job.getAttribute('data-job');
  const written = (await api(PIM, 'GET', `/v1/imports/${first}`)).body.schema_written;
  assert.ok(written > 0);
  assert.equal(await job.locator('[data-count="schema_written"] .num').innerText(), String(written));
  // pimd lists the first 1000 problems of a job
  const lines = ['sku,family,wt_name-en_US,wt_gtin'];
  for (let i = 0; i < 1005; i++) lines.push(`WT-G${i},wt_mug,Mug ${i},4006381333932`);
  const feed = feedFile('wt-bad-gtins.csv', `${lines.join('\n')}\n`);
  await page.getByLabel('Feed file').setInputFiles(feed);
  await page.getByLabel('Profile').fill('');
  await page.getByRole('button', { name: 'Import' }).click();
  job = page.locator(`.job:not([data-job="${first}"])`);
  await job.locator('.status.done').waitFor({ timeout: 30000 });
  const rep = (await api(PIM, 'GET', `/v1/imports/${await job.getAttribute('data-job')}`)).body;
  assert.equal(await job.locator('h3').innerText(), `Problems (${rep.errors_total}; the first ${rep.errors.length} are listed)`);
  assert.ok(rep.errors_total > rep.errors.length);
});

test('the profile and format are guessed from a file\'s first lines, and a profile typed is kept', async () => {
  const { page } = b;
  await page.getByRole('link', { name: 'Imports' }).click();
  await drawn(page, '#/imports');
  const profile = page.getByLabel('Profile');
  const feed = page.getByLabel('Feed file');
  await feed.setInputFiles(join(DATA, 'catalogs', 'shopify', 'apparel.csv'));
  await page.waitForFunction(() => document.querySelector('input[name=profile]').value === 'shopify');
  await feed.setInputFiles(join(AKENEO, 'families.csv'));
  await page.waitForFunction(() => document.querySelector('input[name=profile]').value === 'akeneo');
  await feed.setInputFiles(csv); // our own columns
  await page.waitForFunction(() => document.querySelector('input[name=profile]').value === '');
  // a BMEcat catalog is one whatever its name
  const xml = feedFile('catalog.xml', readFileSync(join(DATA, 'catalogs', 'bmecat', 'olivere_bmecat12_new_catalog.xml')));
  await feed.setInputFiles(xml);
  await page.waitForFunction(() => document.querySelector('select[name=format]').value === 'bmecat');
  await profile.fill('magento');
  await feed.setInputFiles(join(DATA, 'catalogs', 'shopify', 'apparel.csv'));
  await page.waitForTimeout(300);
  assert.equal(await profile.inputValue(), 'magento');
  await profile.fill('');
});

test('a feed in another language puts its values in the locale chosen', async () => {
  const { page } = b;
  const feed = feedFile('wt-fr.csv', 'sku,family,wt_name\nWT-FR1,wt_mug,Tasse à café\n');
  const job = await importFeed(page, feed, () => page.getByLabel('Language of the feed').selectOption('fr_FR'));
  assert.match(await job.innerText(), /fr_FR/);
  const p = await api(PIM, 'GET', '/v1/products/WT-FR1');
  assert.deepEqual(p.body.values.wt_name, [{ locale: 'fr_FR', channel: null, data: 'Tasse à café' }]);
});

test('an Akeneo product models file reports the sub-models it kept', async () => {
  const { page } = b;
  // the structure first, through the API, as a merchandiser would have done
  for (const f of ['families.csv', 'family_variants.csv']) {
    const r = await api(PIM, 'POST', '/v1/imports?format=csv&profile=akeneo', readFileSync(join(AKENEO, f)),
      { 'Content-Type': 'text/csv' });
    assert.equal(r.status, 202);
    let j;
    for (let i = 0; i < 300; i++) {
      j = (await api(PIM, 'GET', `/v1/imports/${r.body.id}`)).body;
      if (['done', 'failed', 'cancelled'].includes(j.status)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(j.status, 'done', f);
  }
  const job = await importFeed(page, join(AKENEO, 'product_models.csv'),
    () => page.getByLabel('Profile').fill('akeneo'), true);
  assert.equal(await job.locator('[data-count="created"] .num').innerText(), '1', 'the root model is a product');
  assert.equal(await job.locator('[data-count="models-kept"] .num').innerText(), '2');
  assert.equal(await job.locator('[data-count="models-created"] .num').innerText(), '2');
  assert.equal(await job.locator('[data-count="failed"] .num').innerText(), '1', 'the sub-model without its root');
  await shot(page, 'import-akeneo-models');
  assert.deepEqual(b.errors, []);
});

// A click on "Imports" draws the page anew, but the form still shown can be
// used before that is done: whichever ends first, the upload or the drawing,
// the job that was started stays in view.
test('an import sent while the page is being drawn stays in view', async () => {
  const { page } = b;
  const listing = (u) => u.pathname === '/v1/imports' && u.searchParams.has('limit');
  const upload = (u) => u.pathname === '/v1/imports' && u.searchParams.has('format');
  for (const n of [1, 2]) {
    const file = feedFile(`wt-race-${n}.csv`, `sku,family,categories,enabled,wt_name-en_US\nWT-R${n},wt_mug,wt_mugs,1,Raced mug ${n}\n`);
    let sent;
    const uploading = new Promise((res) => { sent = res; });
    // 1: the page is drawn after the upload was answered;
    // 2: the upload is answered after the page was drawn
    const drawing = n === 1 ? page.waitForResponse((r) => upload(new URL(r.url()))) : uploading;
    await page.route(listing, async (r) => { await drawing; await r.continue(); });
    await page.route(upload, async (r) => {
      sent();
      if (n === 2) await drawn(page, '#/imports');
      await r.continue();
    });
    await page.getByRole('link', { name: 'Imports' }).click();
    await page.getByLabel('Feed file').setInputFiles(file);
    await page.getByRole('button', { name: 'Import' }).click();
    const job = page.locator('.job');
    await job.locator('.status.done').waitFor({ timeout: 10000 });
    assert.equal(`#/imports/${await job.getAttribute('data-job')}`, await page.evaluate(() => location.hash));
    assert.equal(await job.locator('[data-count="created"] .num').innerText(), '1', `case ${n}`);
    await page.unrouteAll();
  }
  assert.equal((await api(PIM, 'GET', '/v1/products/WT-R2')).status, 200);
  assert.deepEqual(b.errors, []);
});
