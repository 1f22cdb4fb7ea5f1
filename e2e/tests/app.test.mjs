// The holder app: balances and statements, a reservation code (QR, barcode, digits, a countdown)
// that works at a till, FLASH SMS confirmations waiting in the app, logging out, and CSRF.

import assert from 'node:assert/strict';
import {
  setup, login, tableByCaption, parseCountdown, postFormWithoutCsrf, sleep,
} from '../lib/harness.mjs';

const h = setup(import.meta.url);

/** The text of the EUR row of the Balances table. */
async function eurRow(page) {
  const table = tableByCaption(page, 'Balances');
  await table.waitFor();
  return table.locator('tr', { hasText: 'EUR' }).first().innerText();
}

/** Generates a code on the app page; returns `{digits, expiresAt}` from the code page. */
async function generateCode(page, shot, { maxAmount, currency = 'EUR' } = {}) {
  if (maxAmount !== undefined) await page.getByLabel('Maximum amount (optional)').fill(maxAmount);
  await page.getByLabel('Currency').selectOption(currency);
  await page.getByRole('button', { name: 'Generate code' }).click();
  await page.getByRole('heading', { level: 1, name: 'Reservation code' }).waitFor();
  const digits = (await page.locator('#code').innerText()).replace(/\s+/g, '');
  assert.match(digits, /^\d{28}$/, 'the code is 28 digits');
  const attr = await page.locator('#countdown').getAttribute('data-expires-at');
  const expiresAt = attr === null ? null : Number(attr);
  await shot(`code page${maxAmount ? ` max ${maxAmount}` : ''}`);
  return { digits, expiresAt };
}

/** The element of the "Confirmations waiting" section that shows `correlation` and its buttons. */
function waitingItem(page, correlation) {
  const section = page.getByRole('heading', { level: 2, name: 'Confirmations waiting' }).locator('xpath=..');
  return section.locator('*')
    .filter({ hasText: new RegExp(`\\b${correlation}\\b`) })
    .filter({ has: page.getByRole('button', { name: 'Accept', exact: true }) })
    .last();
}

h.test('app: not logged in, /frontend/app sends the browser to the login page', async ({ page, shot, server }) => {
  await page.goto(server.page('/frontend/app'));
  const u = new URL(page.url());
  assert.match(u.pathname, /^\/frontend\/(?:(?:en|ru)\/)?login$/);
  assert.equal(u.searchParams.get('next'), '/frontend/app');
  await page.locator('input[name="password"]').waitFor();
  await shot('redirected to login');
});

h.test('app: balances and statements', async ({ page, shot, server }) => {
  // One cash-out before, so that the statements have a recognisable line.
  const code = await server.walletd('admin', 'reservation-code', '--wallet', String(server.alice.wallet_id), '--json');
  await server.wallet('cash-out', '--code', code.reservation_code, '--amount', '1.23', '--description', 'Till 17 withdrawal');
  const expected = (await server.balance(server.alice.wallet_id)).EUR.at_disposal_decimal;

  await login(page, server, server.alice, '/frontend/app');
  await page.getByRole('heading', { level: 1, name: 'Your wallet' }).waitFor();
  assert.match(await eurRow(page), new RegExp(expected.replace('.', '\\.')));
  assert.equal(expected, '998.77');
  await shot('app');

  await page.getByRole('link', { name: 'Statements' }).click();
  await page.waitForURL((u) => u.pathname === '/frontend/app/statements');
  const statements = tableByCaption(page, 'Statements');
  await statements.waitFor();
  const text = await statements.innerText();
  assert.match(text, /1\.23/, `the cash-out is in the statements: ${text}`);
  assert.ok(await statements.locator('tbody tr').count() >= 1);
  await shot('statements');
});

h.test('app: a reservation code with QR, barcode and a countdown works at a till', async ({ page, shot, server }) => {
  await login(page, server, server.alice, '/frontend/app');
  const before = (await server.balance(server.alice.wallet_id)).EUR.at_disposal;
  await page.getByLabel('Maximum amount (optional)').waitFor();
  await shot('app before code');
  const now = Math.floor(Date.now() / 1000);
  const { digits, expiresAt } = await generateCode(page, shot);

  for (const name of ['QR code', 'Barcode']) {
    const img = page.getByRole('img', { name, exact: true });
    await img.waitFor();
    assert.equal(await img.evaluate((e) => e.tagName.toLowerCase()), 'svg', `${name} is an SVG`);
    const box = await img.boundingBox();
    assert.ok(box && box.width > 20 && box.height > 20, `${name} is drawn: ${JSON.stringify(box)}`);
  }
  assert.ok(expiresAt !== null, '#countdown has data-expires-at (unix seconds)');
  assert.ok(expiresAt >= now + 240 && expiresAt <= now + 330, `data-expires-at ${expiresAt} is about 5 minutes after ${now}`);

  const countdown = page.locator('#countdown');
  const first = await countdown.innerText();
  assert.match(first, /^Expires in \d+:\d\d$/);
  await sleep(2_500);
  const second = await countdown.innerText();
  const [a, b] = [parseCountdown(first), parseCountdown(second)];
  assert.ok(b < a && a - b >= 1 && a - b <= 4, `the countdown decreases: ${first} → ${second}`);
  assert.ok(a <= 300 && a > 240, first);
  await shot('countdown later');

  const paid = await server.wallet('cash-out', '--code', digits, '--amount', '5.00');
  assert.equal(paid.status, 'confirmed');
  assert.equal(paid.wallet, server.alice.wallet_id);
  assert.equal((await server.balance(server.alice.wallet_id)).EUR.at_disposal, before - 500);

  await page.goto(server.page('/frontend/app'));
  const after = (await server.balance(server.alice.wallet_id)).EUR.at_disposal_decimal;
  assert.match(await eurRow(page), new RegExp(after.replace('.', '\\.')));
  await shot('app after cash-out');
});

h.test('app: a code with a maximum amount refuses a larger cash-out', async ({ page, shot, server }) => {
  await login(page, server, server.bob, '/frontend/app');
  const { digits } = await generateCode(page, shot, { maxAmount: '2.00' });
  const refused = await server.walletRaw('cash-out', '--code', digits, '--amount', '5.00');
  assert.equal(refused.code, 1, refused.describe());
  assert.equal(refused.json?.error, 'code_restriction_violation', refused.describe());
  assert.equal((await server.balance(server.bob.wallet_id)).EUR.reserved_decimal, '0.00');
});

for (const [answer, button, status] of [['accept', 'Accept', 'reserved'], ['reject', 'Reject', 'rejected']]) {
  h.test(`app: a FLASH confirmation waiting in the app, ${answer}`, async ({ page, shot, server }) => {
    const tx = await server.createTransaction({ amount: answer === 'accept' ? '11.00' : '12.00', description: `Flash order (${answer})` });
    const key = tx.transaction_key;
    const flashed = await server.wallet('transaction', 'flash', key, '--wallet', String(server.alice.wallet_id));
    assert.equal(flashed.status, 'waiting');
    const correlation = flashed.correlation_key;
    assert.ok(correlation, JSON.stringify(flashed));

    await login(page, server, server.alice, '/frontend/app');
    const item = waitingItem(page, correlation);
    await item.waitFor();
    await item.getByRole('button', { name: 'Reject', exact: true }).waitFor();
    await item.scrollIntoViewIfNeeded();
    await shot('confirmations waiting');

    await item.getByRole('button', { name: button, exact: true }).click();
    await page.waitForLoadState();
    const done = await server.waitForStatus(key, status);
    if (status === 'reserved') assert.equal(done.wallet, server.alice.wallet_id);
    await page.goto(server.page('/frontend/app'));
    await page.getByRole('heading', { level: 1, name: 'Your wallet' }).waitFor();
    assert.equal(await waitingItem(page, correlation).count(), 0, 'the answered confirmation is gone');
    await shot(`after ${answer}`);
  });
}

h.test('app: CSRF: forms carry a csrf field, a POST without it gets 403', async ({ page, shot, server }) => {
  // The login form, not logged in.
  await page.goto(server.page('/frontend/en/login?next=/frontend/app'));
  const loginForm = page.locator('form', { has: page.locator('input[name="password"]') });
  const refusedLogin = await postFormWithoutCsrf(page, loginForm);
  assert.ok(refusedLogin.hadCsrf, 'the login form has a csrf field');
  assert.equal(refusedLogin.response.status(), 403, `POST ${refusedLogin.action} without csrf`);

  // Every POST form of the app, logged in.
  await login(page, server, server.bob, '/frontend/app');
  const forms = page.locator('form[method="post" i]');
  const n = await forms.count();
  assert.ok(n >= 2, `the app has its forms (code, log out): ${n}`);
  for (let i = 0; i < n; i++) {
    assert.equal(await forms.nth(i).locator('input[type="hidden"][name="csrf"]').count(), 1, `form ${i} has a csrf field`);
  }
  const generate = page.getByRole('button', { name: 'Generate code' });
  const refusedCode = await postFormWithoutCsrf(page, page.locator('form', { has: generate }), generate);
  assert.equal(refusedCode.response.status(), 403, `POST ${refusedCode.action} without csrf`);
  const logout = page.getByRole('button', { name: 'Log out' });
  const refusedLogout = await postFormWithoutCsrf(page, page.locator('form', { has: logout }), logout);
  assert.equal(refusedLogout.response.status(), 403, `POST ${refusedLogout.action} without csrf`);

  // Still logged in: the refused log-out did nothing.
  await page.goto(server.page('/frontend/app'));
  await page.getByRole('heading', { level: 1, name: 'Your wallet' }).waitFor();
  await shot('still logged in');
});

h.test('app: log out', async ({ page, shot, server }) => {
  await login(page, server, server.alice, '/frontend/app');
  await page.getByRole('heading', { level: 1, name: 'Your wallet' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForLoadState();
  await shot('after log out');
  await page.goto(server.page('/frontend/app'));
  const u = new URL(page.url());
  assert.match(u.pathname, /\/login$/, `logged out: ${page.url()}`);
  await page.locator('input[name="password"]').waitFor();
  await shot('app asks to log in again');
});
