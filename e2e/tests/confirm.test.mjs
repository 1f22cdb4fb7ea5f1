// The confirmation page a client sends its customer to: accept (en, logging in on the page itself),
// reject (lt), accept with too little money (waiting_funds, reserved by itself after a top-up), and
// a transaction with redirect_uri (the browser lands there).

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  setup, startSite, fillLogin, postFormWithoutCsrf, loginToConfirm, answer,
} from '../lib/harness.mjs';

const h = setup(import.meta.url);
let site;
before(async () => { site = await startSite(); });
after(async () => { await site?.stop(); });

h.test('confirm-accept (en): login in place, the payment table, Accept reserves', async ({ page, shot, server }) => {
  const tx = await server.createTransaction({ amount: '12.34', description: 'Order 1001: coffee beans' });
  const key = tx.transaction_key;
  const confirmPath = server.confirmPath(key);

  // Not logged in: the login form is shown in place, and posting it comes back here.
  await page.goto(server.page(confirmPath));
  await page.getByLabel('Email').waitFor();
  await page.getByLabel('Password').waitFor();
  await shot('login in place');
  await fillLogin(page, server.alice);
  await page.waitForURL((u) => u.pathname === confirmPath);

  await page.getByRole('heading', { level: 1, name: 'Confirm payment' }).waitFor();
  const main = await page.locator('body').innerText();
  assert.match(main, /demo/, 'the project name is shown');
  const table = page.locator('table').first();
  const rows = await table.innerText();
  assert.match(rows, /Order 1001: coffee beans/);
  assert.match(rows, /12\.34 EUR/);
  // The total (one payment: the same amount) is on the page too.
  assert.ok((main.match(/12\.34 EUR/g) || []).length >= 2, `the total 12.34 EUR is shown: ${main}`);
  await page.getByRole('button', { name: 'Reject' }).waitFor();
  await shot('confirmation page');

  const shown = await server.getTransaction(key);
  assert.equal(shown.status, 'waiting');
  assert.equal(shown.type, 'page');

  const notice = await answer(page, 'Accept');
  assert.match(notice, /accepted/i);
  assert.doesNotMatch(notice, /waiting for funds/i);
  await shot('after accept');
  const reserved = await server.waitForStatus(key, 'reserved');
  assert.equal(reserved.wallet, server.alice.wallet_id);
  const balance = await server.balance(server.alice.wallet_id);
  assert.equal(balance.EUR.reserved_decimal, '12.34');
});

h.test('confirm-reject (lt page): Atmesti rejects', async ({ page, shot, server }) => {
  const key = await loginToConfirm(page, server, server.bob, { lang: 'lt', amount: '7.50', description: 'Užsakymas 2002' });
  assert.equal(await page.locator('html').getAttribute('lang'), 'lt');
  assert.match(await page.locator('table').first().innerText(), /7\.50 EUR/);
  await page.getByRole('button', { name: 'Patvirtinti' }).waitFor();
  await shot('confirmation page lt');
  assert.equal((await server.getTransaction(key)).status, 'waiting');

  await answer(page, 'Atmesti');
  await shot('after reject');
  await server.waitForStatus(key, 'rejected');
  const balance = await server.balance(server.bob.wallet_id);
  assert.equal(balance.EUR.reserved_decimal, '0.00');
});

h.test('confirm-reject (en): the notice says rejected', async ({ page, shot, server }) => {
  const key = await loginToConfirm(page, server, server.alice, { amount: '3.00', description: 'Order 2003' });
  assert.match(await answer(page, 'Reject'), /rejected/i);
  await shot('after reject');
  await server.waitForStatus(key, 'rejected');
});

h.test('confirm (ru page): Russian buttons', async ({ page, shot, server }) => {
  const key = await loginToConfirm(page, server, server.alice, { lang: 'ru', amount: '1.00', description: 'Заказ 3003' });
  assert.equal(await page.locator('html').getAttribute('lang'), 'ru');
  await page.getByRole('button', { name: 'Отклонить' }).waitFor();
  await shot('confirmation page ru');
  await answer(page, 'Подтвердить');
  await shot('after accept ru');
  await server.waitForStatus(key, 'reserved');
});

h.test('confirm-waiting-funds: Accept with too little money waits, a top-up reserves it', async ({ page, shot, server }) => {
  // Bob has 1000.00 EUR; this needs 1500.00.
  const key = await loginToConfirm(page, server, server.bob, { amount: '1500.00', description: 'Order 4004: a bicycle' });
  await page.getByRole('heading', { level: 1, name: 'Confirm payment' }).waitFor();
  await shot('confirmation page');
  assert.match(await answer(page, 'Accept'), /waiting for funds/i);
  await shot('waiting for funds');
  await server.waitForStatus(key, 'waiting_funds');

  await server.topUp(server.bob.wallet_id, '600.00');
  const reserved = await server.waitForStatus(key, 'reserved', 20_000);
  assert.equal(reserved.wallet, server.bob.wallet_id);
  const balance = await server.balance(server.bob.wallet_id);
  assert.equal(balance.EUR.reserved_decimal, '1500.00');
});

h.test('confirm with redirect_uri: the browser lands on the redirect', async ({ page, shot, server }) => {
  const redirectUri = `${site.url}/shop/return?order=5005`;
  const key = await loginToConfirm(page, server, server.alice, { amount: '20.00', description: 'Order 5005', redirectUri });
  await shot('confirmation page');
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL((u) => u.href.startsWith(redirectUri));
  await page.getByRole('heading', { name: 'Back at the shop' }).waitFor();
  await shot('landed on redirect');
  assert.ok(site.visits.some((v) => v.startsWith('/shop/return?order=5005')), JSON.stringify(site.visits));
  await server.waitForStatus(key, 'reserved');

  // Reject also goes back to the shop.
  const tx2 = await server.createTransaction({ amount: '21.00', description: 'Order 5006', redirectUri: `${site.url}/shop/return?order=5006` });
  await page.goto(server.page(server.confirmPath(tx2.transaction_key)));
  await page.getByRole('button', { name: 'Reject' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${site.url}/shop/return?order=5006`));
  await shot('landed on redirect after reject');
  await server.waitForStatus(tx2.transaction_key, 'rejected');
});

h.test('confirm CSRF: Accept posted without the csrf field gets 403 and changes nothing', async ({ page, shot, server }) => {
  const key = await loginToConfirm(page, server, server.alice, { amount: '6.66', description: 'Order 8008' });
  const accept = page.getByRole('button', { name: 'Accept' });
  const form = page.locator('form', { has: accept });
  const refused = await postFormWithoutCsrf(page, form, accept);
  assert.ok(refused.hadCsrf, 'the confirmation form has a csrf field');
  assert.equal(refused.response.status(), 403, `POST ${refused.action} without csrf`);
  assert.equal((await server.getTransaction(key)).status, 'waiting');
  // The page itself still works.
  await page.reload();
  await answer(page, 'Accept');
  await shot('accepted after refused post');
  await server.waitForStatus(key, 'reserved');
});
