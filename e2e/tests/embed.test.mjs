// The confirmation page inside a shop's page: `?display=iframe` (the result is posted to
// window.parent) and `?display=popup` (posted to window.opener); with redirect_uri the shop's
// window goes there. The shop is a small page on another port of 127.0.0.1: the same site, so the
// walletd session cookie is sent inside the iframe.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { setup, startSite, login, openCheckout, openPopup } from '../lib/harness.mjs';

const h = setup(import.meta.url);
let site;
before(async () => { site = await startSite(); });
after(async () => { await site?.stop(); });

/** Waits until the shop page got a `walletd:transaction` message for `key`; returns its data. */
async function waitForMessage(page, key, status) {
  const handle = await page.waitForFunction(
    ([k, s]) => (window.__messages || []).find((m) => m.data && m.data.type === 'walletd:transaction'
      && m.data.transaction_key === k && (!s || m.data.status === s)),
    [key, status],
  );
  return handle.jsonValue();
}

h.test('iframe mode: log in and accept inside the iframe, the parent gets the message', async ({ page, shot, server }) => {
  const key = await openCheckout(page, site, server, 'iframe', { amount: '9.99', description: 'Iframe order 6001' });
  const frame = page.frameLocator('iframe#walletd');

  // Not logged in yet: the login form is shown inside the iframe.
  await frame.locator('input[name="email"]').fill(server.alice.email);
  await frame.locator('input[name="password"]').fill(server.alice.password);
  await shot('login in iframe');
  await frame.getByRole('button', { name: 'Log in' }).click();
  await frame.getByRole('heading', { level: 1, name: 'Confirm payment' }).waitFor();
  await frame.getByRole('button', { name: 'Accept' }).waitFor();
  await shot('confirmation in iframe');
  assert.equal(new URL(page.url()).origin, site.url, 'the shop page stays on top');
  assert.equal((await server.getTransaction(key)).type, 'page');

  await frame.getByRole('button', { name: 'Accept' }).click();
  const message = await waitForMessage(page, key);
  assert.equal(message.data.status, 'reserved');
  assert.equal(message.origin, server.url, 'the message comes from walletd');
  await shot('after accept in iframe');
  await server.waitForStatus(key, 'reserved');
});

h.test('iframe mode with redirect_uri: reject, the message, then the top window goes to the shop', async ({ page, shot, server, t }) => {
  await login(page, server, server.bob, '/frontend/app');
  const redirectUri = `${site.url}/shop/return?order=6002`;
  const key = await openCheckout(page, site, server, 'iframe', { amount: '4.20', description: 'Iframe order 6002', redirectUri });
  const frame = page.frameLocator('iframe#walletd');
  await frame.getByRole('button', { name: 'Reject' }).waitFor();
  await shot('confirmation in iframe');
  await frame.getByRole('button', { name: 'Reject' }).click();
  const message = await waitForMessage(page, key);
  assert.equal(message.data.status, 'rejected');
  await shot('after reject in iframe');
  // Browsers refuse a frame's navigation of a cross-origin top window without a click, so the
  // result in the iframe may instead offer a link to the redirect that targets the top window.
  const atRedirect = (u) => u.href.startsWith(redirectUri);
  const automatic = await page.waitForURL(atRedirect, { timeout: 3_000 }).then(() => true, () => false);
  if (!automatic) {
    const link = frame.locator(`a[href^="${redirectUri.replace(/"/g, '\\"')}"]`).first();
    assert.equal(await link.getAttribute('target'), '_top', 'the link to redirect_uri opens in the top window');
    await link.click();
    await page.waitForURL(atRedirect);
  }
  t.diagnostic(`top window reached redirect_uri ${automatic ? 'by itself' : 'through the link'}`);
  await page.getByRole('heading', { name: 'Back at the shop' }).waitFor();
  await shot('top window at redirect');
  await server.waitForStatus(key, 'rejected');
});

h.test('popup mode: accept in the popup, the opener gets the message', async ({ page, shot, server }) => {
  await login(page, server, server.alice, '/frontend/app');
  const key = await openCheckout(page, site, server, 'popup', { amount: '2.50', description: 'Popup order 7001' });
  const popup = await openPopup(page);
  await popup.getByRole('heading', { level: 1, name: 'Confirm payment' }).waitFor();
  await shot('popup confirmation', popup);
  await popup.getByRole('button', { name: 'Accept' }).click();
  const message = await waitForMessage(page, key);
  assert.equal(message.data.status, 'reserved');
  assert.equal(message.origin, server.url);
  await shot('opener after accept');
  if (!popup.isClosed()) await shot('popup after accept', popup);
  await server.waitForStatus(key, 'reserved');
});

h.test('popup mode with redirect_uri: reject in the popup, the opener goes to the shop', async ({ page, shot, server }) => {
  await login(page, server, server.bob, '/frontend/app');
  const redirectUri = `${site.url}/shop/return?order=7002`;
  const key = await openCheckout(page, site, server, 'popup', { amount: '3.30', description: 'Popup order 7002', redirectUri });
  const popup = await openPopup(page);
  await popup.getByRole('button', { name: 'Reject' }).click();
  await page.waitForURL((u) => u.href.startsWith(redirectUri));
  await shot('opener at redirect');
  await server.waitForStatus(key, 'rejected');
});
