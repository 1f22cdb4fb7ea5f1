// The harness itself: walletd starts on its own port and database, the demo data and the `wallet`
// CLI work, and Chromium loads a page of the server and takes a screenshot. This file does not
// depend on the web pages, so it tells a broken harness from a missing page.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setup } from '../lib/harness.mjs';

const h = setup(import.meta.url);

h.test('harness: Chromium loads /health from this file\'s walletd', async ({ page, shot, server }) => {
  const response = await page.goto(server.page('/health'));
  assert.equal(response.status(), 200);
  assert.equal((await page.locator('body').innerText()).trim(), 'ok');
  const name = await shot('health');
  assert.ok(existsSync(path.join(h.dir, name)), `screenshot ${name} was written`);
});

h.test('harness: demo holders are funded and the wallet CLI signs as the demo client', async ({ server }) => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.db, /^sqlite:\/\/.+\/walletd\.db$/);
  assert.equal(server.alice.password, 'alice-demo-password');
  assert.equal(server.bob.password, 'bob-demo-password');
  const balance = await server.balance(server.alice.wallet_id);
  assert.equal(balance.EUR.at_disposal_decimal, '1000.00');

  const tx = await server.createTransaction({
    amount: '12.34',
    description: 'Harness order',
    redirectUri: 'http://127.0.0.1:9/shop/return',
  });
  assert.equal(tx.status, 'new');
  assert.equal(tx.redirect_uri, 'http://127.0.0.1:9/shop/return');
  assert.equal(tx.payments[0].price_decimal, '12.34');

  const flashed = await server.wallet('transaction', 'flash', tx.transaction_key, '--wallet', String(server.alice.wallet_id));
  assert.equal(flashed.status, 'waiting');
  assert.equal(flashed.type, 'flash');
  assert.match(flashed.correlation_key, /^[A-Z0-9]+$/);
  assert.equal((await server.getTransaction(tx.transaction_key)).correlation_key, flashed.correlation_key);

  // A till cash-out with an operator-issued code, and a refusal's code in --json.
  const code = await server.walletd('admin', 'reservation-code', '--wallet', String(server.bob.wallet_id), '--json');
  const paid = await server.wallet('cash-out', '--code', code.reservation_code, '--amount', '5.00');
  assert.equal(paid.status, 'confirmed');
  const again = await server.walletRaw('cash-out', '--code', code.reservation_code, '--amount', '5.00');
  assert.equal(again.code, 1, again.describe());
  assert.equal(again.json.error, 'invalid_code');
});
