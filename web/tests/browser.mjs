// One Chromium for the whole browser suite (launching one per test file
// costs seconds on a busy machine): prints its WebSocket endpoint, then
// serves until killed. Each test opens its own context (fresh storage).
import { chromium } from 'playwright-core';

export const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (process.argv[1] && process.argv[1].endsWith('browser.mjs')) {
  const server = await chromium.launchServer({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  process.stdout.write(`${server.wsEndpoint()}\n`);
  const stop = async () => { await server.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
