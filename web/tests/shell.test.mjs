// The page itself: served by pimd, modules load, the sign-in form is usable
// by keyboard and labelled, and pimd tells the UI where damd is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PIM, DAM, openBrowser, signIn, drawn, api } from './lib.mjs';

test('pimd tells the UI where damd is, its profiles and presets', async () => {
  const r = await api(PIM, 'GET', '/v1/ui-config');
  assert.equal(r.status, 200);
  assert.equal(r.body.damd_url, DAM);
  assert.ok(r.body.profiles.includes('shopify'), `profiles: ${r.body.profiles}`);
  const thumb = r.body.presets.find((p) => p.name === 'web-thumb');
  assert.ok(thumb && thumb.width > 0, 'web-thumb is among the presets with its size');
});

test('the UI loads without script errors and asks for a token', async () => {
  const b = await openBrowser();
  try {
    await b.page.goto(`${PIM}/`);
    const token = b.page.getByLabel('Token', { exact: true });
    await token.waitFor();
    assert.equal(await token.getAttribute('type'), 'password');
    assert.ok(await token.evaluate((el) => el === document.activeElement), 'the token field has focus');
    assert.equal(await b.page.title(), 'Sign in · Hub');
    for (const name of ['Products', 'Imports', 'Assets', 'Completeness']) {
      assert.equal(await b.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).count(), 1);
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('"Skip to content" moves the focus to the page and stays on it', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page);
    await drawn(b.page, '#/products');
    await b.page.reload();
    await drawn(b.page, '#/products');
    await b.page.keyboard.press('Tab');
    assert.equal(await b.page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    await b.page.keyboard.press('Enter');
    await b.page.waitForFunction(() => document.activeElement.id === 'main');
    assert.equal(await b.page.evaluate(() => location.hash), '#/products');
    assert.equal(await b.page.getByRole('heading', { name: 'Products' }).count(), 1);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('unknown files under / are 404, the stylesheet is CSS', async () => {
  // bodies are read to the end: an unread one keeps the process alive
  const css = await api(PIM, 'GET', '/style.css');
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /text\/css/);
  const js = await api(PIM, 'GET', '/views/product.js');
  assert.match(js.headers.get('content-type'), /javascript/);
  const missing = await api(PIM, 'GET', '/no-such-file.js');
  assert.equal(missing.status, 404);
});
