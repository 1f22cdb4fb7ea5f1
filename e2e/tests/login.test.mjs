// The login page: wrong credentials show the form again with an alert; the right ones reach `next`;
// the Lithuanian and Russian login pages offer the same form.

import assert from 'node:assert/strict';
import { setup, fillLogin } from '../lib/harness.mjs';

const h = setup(import.meta.url);

h.test('login: a wrong password shows an alert, the right one reaches next', async ({ page, shot, server }) => {
  const next = '/frontend/app/statements';
  const response = await page.goto(server.page(`/frontend/en/login?next=${encodeURIComponent(next)}`));
  assert.equal(response.status(), 200);
  await page.getByLabel('Email').waitFor();
  await page.getByLabel('Password').waitFor();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await page.locator('input[name="csrf"]').count() > 0, true, 'the form carries a csrf field');
  await shot('login page');

  await page.getByLabel('Email').fill(server.alice.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').waitFor();
  await shot('wrong password');
  assert.notEqual(new URL(page.url()).pathname, next);
  // The form is offered again, and does not echo the password.
  await page.getByLabel('Password').waitFor();
  assert.equal(await page.getByLabel('Password').inputValue(), '');

  await page.getByLabel('Email').fill(server.alice.email);
  await page.getByLabel('Password').fill(server.alice.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === next);
  await shot('logged in at next');
  assert.equal(await page.getByRole('alert').count(), 0);
});

h.test('login: the Lithuanian and Russian login pages have the same form', async ({ page, shot, server }) => {
  for (const [lang, p] of [['lt', '/frontend/login'], ['ru', '/frontend/ru/login']]) {
    const response = await page.goto(server.page(`${p}?next=${encodeURIComponent('/frontend/app')}`));
    assert.equal(response.status(), 200, p);
    assert.equal(await page.locator('html').getAttribute('lang'), lang, `${p} is in ${lang}`);
    await page.locator('form input[name="email"]').waitFor();
    await page.locator('form input[name="password"]').waitFor();
    await shot(`login ${lang}`);
  }
  // Logging in from the Lithuanian page also reaches next.
  await fillLogin(page, server.bob);
  await page.waitForURL((u) => u.pathname === '/frontend/app');
  await shot('logged in from lt');
});
