// Importing a feed as a person does: pick the file, watch the job, read
// the counts and the message of the line that failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIM, openBrowser, signIn, seedSchema, api, shot } from './lib.mjs';

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

test('a CSV import reports created rows and the failed line', async () => {
  const { page } = b;
  await page.getByRole('link', { name: 'Imports' }).click();
  await page.getByLabel('Feed file').setInputFiles(csv);
  assert.equal(await page.getByLabel('Format').inputValue(), 'csv');
  await page.getByRole('button', { name: 'Import' }).click();
  const job = page.locator('.job');
  await job.locator('.status.done, .status.failed').waitFor({ timeout: 30000 });
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
