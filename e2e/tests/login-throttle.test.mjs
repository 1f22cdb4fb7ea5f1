// Too many failed logins: the login page answers 429 with an alert. In its own file (its own
// server), because the throttle may hold back every later login from this browser.

import assert from 'node:assert/strict';
import { setup } from '../lib/harness.mjs';

const h = setup(import.meta.url);

h.test('login: too many wrong passwords give a 429 page with an alert', async ({ page, shot, server }) => {
  let status;
  for (let attempt = 1; attempt <= 30; attempt++) {
    await page.goto(server.page('/frontend/en/login?next=/frontend/app'));
    await page.locator('input[name="email"]').fill(server.bob.email);
    await page.locator('input[name="password"]').fill(`wrong-${attempt}`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
    status = response.status();
    await page.waitForLoadState();
    if (status === 429) break;
  }
  assert.equal(status, 429, 'no 429 after 30 wrong passwords');
  await page.getByRole('alert').waitFor();
  await shot('too many attempts');
  // Even the right password is held back now.
  await page.goto(server.page('/frontend/en/login?next=/frontend/app'));
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    (async () => {
      await page.locator('input[name="email"]').fill(server.bob.email);
      await page.locator('input[name="password"]').fill(server.bob.password);
      await page.getByRole('button', { name: 'Log in' }).click();
    })(),
  ]);
  assert.equal(response.status(), 429);
});
