// The end-to-end harness: one walletd per test file (on a fresh SQLite file, a free port, demo data),
// the `wallet` CLI for data set-up (it signs requests like a real client), `walletd admin` for the
// operator's side, and Debian's Chromium driven by playwright-core (which never downloads a browser).
//
// A test file calls `setup(import.meta.url)` once, then registers its tests with `h.test(name, fn)`.
// Each test gets a fresh browser context (no cookies) and `shot(step)`, which saves
// e2e/artifacts/<file>/<test>-<NN>-<step>.png; a failing test also saves a `failed` screenshot and
// the page's HTML beside it. The server's log is copied to e2e/artifacts/<file>/walletd.log.
//
// Environment: WALLETD_BIN, WALLET_BIN (default target/debug/…), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (each Playwright action and wait, default 10000), E2E_KEEP=1 keeps the temp dirs.

import { test, before, after } from 'node:test';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const execFileP = promisify(execFile);

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(E2E_DIR, '..');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');
const TARGET = process.env.CARGO_TARGET_DIR
  ? path.resolve(REPO, process.env.CARGO_TARGET_DIR)
  : path.join(REPO, 'target');
export const WALLETD_BIN = process.env.WALLETD_BIN || path.join(TARGET, 'debug', 'walletd');
export const WALLET_BIN = process.env.WALLET_BIN || path.join(TARGET, 'debug', 'wallet');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 10_000);

/** The flags this machine's Chromium needs (closed network, running as root, no GPU). Playwright
 * adds its own fresh temporary `--user-data-dir` to every `launch()`, and refuses one in `args`. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A short name for files: lower case, runs of anything else than [a-z0-9] as one '-'. */
export function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 100);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs a program; resolves `{code, stdout, stderr}` whatever its exit status. */
export async function run(bin, args, env = {}) {
  try {
    const { stdout, stderr } = await execFileP(bin, args, {
      env: { ...process.env, ...env },
      maxBuffer: 16 << 20,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e; // not started, killed by the timeout
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function describe(bin, args, r) {
  return `${path.basename(bin)} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** The JSON a command printed, or an error that shows the whole exchange. */
function json(bin, args, r) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON: ${describe(bin, args, r)}`);
  }
}

/**
 * Starts `walletd serve` on a free port with a fresh SQLite file, waits for `GET /health` = ok and
 * creates the demo data. Returns the server handle: `url`, `db`, `demo`, `alice`, `bob` and helpers.
 */
export async function startWalletd({ label = 'walletd' } = {}) {
  for (const bin of [WALLETD_BIN, WALLET_BIN]) {
    if (!existsSync(bin)) {
      throw new Error(`${bin} is missing: build it with \`cargo build -p walletd -p wallet-cli\` (or run e2e/run)`);
    }
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `walletd-e2e-${slug(label)}-`));
  const db = `sqlite://${tmp}/walletd.db`;
  const adminToken = `e2e-${Math.random().toString(36).slice(2)}`;
  const logPath = path.join(tmp, 'walletd.log');
  let lastError;
  // The port may be taken between freePort() and the bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = await fs.open(logPath, 'a');
    const child = spawn(
      WALLETD_BIN,
      [
        'serve',
        '--listen', `127.0.0.1:${port}`,
        '--database', db,
        '--admin-token', adminToken,
        '--sweep-seconds', '1',
        '--callback-retry-base-ms', '200',
      ],
      { stdio: ['ignore', log.fd, log.fd], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' } },
    );
    await log.close();
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    const killOnExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
    process.on('exit', killOnExit);
    const deadline = Date.now() + 30_000;
    let healthy = false;
    while (Date.now() < deadline && !exited) {
      try {
        const r = await fetch(`${url}/health`);
        if (r.ok && (await r.text()).trim() === 'ok') { healthy = true; break; }
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    if (!healthy) {
      killOnExit();
      process.off('exit', killOnExit);
      const text = await fs.readFile(logPath, 'utf8').catch(() => '');
      lastError = new Error(
        `walletd did not answer GET /health = ok on ${url} ` +
        `(${exited ? `it exited: ${JSON.stringify(exited)}` : 'timeout'}); its log:\n${text.slice(-4000)}`,
      );
      if (exited && /address already in use|AddrInUse/i.test(text)) continue;
      throw lastError;
    }

    const server = new Walletd({ url, port, db, tmp, adminToken, child, logPath, killOnExit });
    const demoArgs = ['--database', db, 'demo', '--json'];
    const r = await run(WALLETD_BIN, demoArgs);
    if (r.code !== 0) {
      await server.stop();
      throw new Error(describe(WALLETD_BIN, demoArgs, r));
    }
    server.demo = json(WALLETD_BIN, demoArgs, r);
    server.alice = server.demo.users.find((u) => u.email === 'alice@example.com');
    server.bob = server.demo.users.find((u) => u.email === 'bob@example.com');
    if (!server.alice || !server.bob) throw new Error(`demo has no alice/bob: ${r.stdout}`);
    return server;
  }
  throw lastError;
}

class Walletd {
  constructor(fields) {
    Object.assign(this, fields);
  }

  /** Environment of the `wallet` CLI: this server, signed as the demo client. */
  get walletEnv() {
    return {
      WALLET_URL: this.url,
      WALLET_MAC_ID: this.demo.client.mac_id,
      WALLET_MAC_SECRET: this.demo.client.mac_secret,
    };
  }

  /** `wallet ARGS --json`: `{code, stdout, stderr, json}` (json: what it printed, if JSON). */
  async walletRaw(...args) {
    const full = [...args, '--json'];
    const r = await run(WALLET_BIN, full, this.walletEnv);
    try { r.json = JSON.parse(r.stdout); } catch { r.json = undefined; }
    r.describe = () => describe(WALLET_BIN, full, r);
    return r;
  }

  /** `wallet ARGS --json`, which must succeed; its JSON. */
  async wallet(...args) {
    const r = await this.walletRaw(...args);
    if (r.code !== 0 || r.json === undefined) throw new Error(r.describe());
    return r.json;
  }

  /** `walletd --database DB ARGS`, which must succeed; its stdout (JSON-decoded when `--json`). */
  async walletd(...args) {
    const full = ['--database', this.db, ...args];
    const r = await run(WALLETD_BIN, full);
    if (r.code !== 0) throw new Error(describe(WALLETD_BIN, full, r));
    return args.includes('--json') ? json(WALLETD_BIN, full, r) : r.stdout;
  }

  /** A new transaction of the demo client with one payment: `wallet transaction create`. */
  async createTransaction({ amount, description, currency = 'EUR', redirectUri } = {}) {
    const args = ['transaction', 'create', '--amount', amount, '--currency', currency];
    if (description) args.push('--description', description);
    if (redirectUri) args.push('--redirect-uri', redirectUri);
    return this.wallet(...args);
  }

  async getTransaction(key) {
    return this.wallet('transaction', 'get', key);
  }

  /** Polls the transaction until its status is `status` (or one of them); returns it. */
  async waitForStatus(key, status, timeoutMs = 15_000) {
    const wanted = [].concat(status);
    const deadline = Date.now() + timeoutMs;
    let tx;
    for (;;) {
      tx = await this.getTransaction(key);
      if (wanted.includes(tx.status)) return tx;
      if (Date.now() > deadline) {
        throw new Error(`transaction ${key} is ${tx.status} after ${timeoutMs} ms, expected ${wanted.join('|')}: ${JSON.stringify(tx)}`);
      }
      await sleep(250);
    }
  }

  /** `walletd admin balance --wallet W --json`: `{EUR: {at_disposal_decimal, …}}`. */
  async balance(wallet) {
    return this.walletd('admin', 'balance', '--wallet', String(wallet), '--json');
  }

  async topUp(wallet, amount, currency = 'EUR') {
    return this.walletd('admin', 'top-up', '--wallet', String(wallet), '--amount', amount, '--currency', currency);
  }

  /** The page URL on this server, e.g. `page('/frontend/en/wallet/confirm/KEY')`. */
  page(p) {
    return `${this.url}${p}`;
  }

  /** The path of the confirmation page of transaction `key` in `lang`: en, ru, or lt (the
   * default language, without a prefix). */
  confirmPath(key, lang = 'en') {
    return `/frontend/${lang === 'lt' ? '' : `${lang}/`}wallet/confirm/${key}`;
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', this.killOnExit);
  }
}

/** Debian's Chromium through playwright-core, with the flags this machine needs. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it with ` +
      '`apt-get update && apt-get install -y chromium`, or point CHROMIUM at a Chromium binary ' +
      '(playwright-core never downloads a browser)',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A tiny site on another port of 127.0.0.1 (same site as walletd, so its session cookie is sent
 * to the walletd pages inside it): `/embed?src=URL` shows URL in an iframe, `/opener?src=URL` has a
 * button "Open payment" that opens URL with window.open; both keep every `message` event in
 * `window.__messages`. Anything under `/shop/` is a "Back at the shop" page, for redirect_uri.
 */
export async function startSite() {
  const visits = [];
  const listener = `
<script>
window.__messages = [];
window.addEventListener('message', (e) => {
  window.__messages.push({ origin: e.origin, data: e.data });
  const li = document.createElement('li');
  li.textContent = e.origin + ' ' + JSON.stringify(e.data);
  document.getElementById('messages').appendChild(li);
});
</script>`;
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    visits.push(u.pathname + u.search);
    const src = u.searchParams.get('src') || '';
    let body;
    if (u.pathname === '/embed') {
      body = `<h1>Shop checkout (iframe)</h1>${listener}
<iframe id="walletd" title="walletd" src="${esc(src)}" width="600" height="700"></iframe>
<ul id="messages"></ul>`;
    } else if (u.pathname === '/opener') {
      body = `<h1>Shop checkout (popup)</h1>${listener}
<button id="open" onclick="window.__popup = window.open(${esc(JSON.stringify(src))}, 'walletd', 'width=600,height=700')">Open payment</button>
<ul id="messages"></ul>`;
    } else if (u.pathname.startsWith('/shop/')) {
      body = `<h1>Back at the shop</h1><p id="where">${esc(u.pathname + u.search)}</p>`;
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body>${body}</body></html>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    visits,
    /** The shop's checkout page showing `src`: in an iframe (`display` 'iframe') or behind the
     * "Open payment" button ('popup'). */
    checkout: (src, display) => `${url}/${display === 'iframe' ? 'embed' : 'opener'}?src=${encodeURIComponent(src)}`,
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/**
 * Per-file set-up: a walletd, a Chromium, and `h.test(name, fn)` that gives each test
 * `{ page, context, shot, server, h }` with a fresh browser context.
 */
export function setup(fileUrl, { label } = {}) {
  const file = path.basename(fileURLToPath(fileUrl)).replace(/\.test\.mjs$/, '');
  const dir = path.join(ARTIFACTS, slug(label || file));
  const h = { server: null, browser: null, dir, file };

  before(async () => {
    await fs.rm(dir, { recursive: true, force: true }); // only this run's pictures
    await fs.mkdir(dir, { recursive: true });
    h.server = await startWalletd({ label: file });
    h.browser = await launchChromium();
  }, { timeout: 60_000 });

  after(async () => {
    await h.browser?.close().catch(() => {});
    if (h.server) {
      await h.server.stop();
      await fs.copyFile(h.server.logPath, path.join(dir, 'walletd.log')).catch(() => {});
      if (!process.env.E2E_KEEP) await fs.rm(h.server.tmp, { recursive: true, force: true });
    }
  });

  /** A fresh context with the default timeouts; `shot(step)` numbered per test. */
  h.open = async (testName) => {
    const context = await h.browser.newContext({ viewport: { width: 1000, height: 800 } });
    context.setDefaultTimeout(TIMEOUT_MS);
    context.setDefaultNavigationTimeout(TIMEOUT_MS);
    const page = await context.newPage();
    let n = 0;
    const shot = async (step, target = page) => {
      n += 1;
      const name = `${slug(testName)}-${String(n).padStart(2, '0')}-${slug(step)}.png`;
      await target.screenshot({ path: path.join(dir, name), fullPage: true });
      return name;
    };
    return { context, page, shot };
  };

  h.test = (name, fn, options = {}) => test(name, { timeout: 120_000, ...options }, async (t) => {
    if (!h.server || !h.browser) throw new Error('the set-up failed (see the first error of this file)');
    const { context, page, shot } = await h.open(name);
    try {
      await fn({ page, context, shot, server: h.server, h, t });
    } catch (e) {
      // Evidence of every page still open: a screenshot and the HTML.
      for (const [i, p] of context.pages().entries()) {
        const base = `${slug(name)}-failed${i ? `-${i}` : ''}`;
        await p.screenshot({ path: path.join(dir, `${base}.png`), fullPage: true, timeout: 5_000 }).catch(() => {});
        await fs.writeFile(path.join(dir, `${base}.html`), `<!-- ${p.url()} -->\n${await p.content().catch(() => '')}`).catch(() => {});
      }
      throw e;
    } finally {
      await context.close().catch(() => {});
    }
  });

  return h;
}

// ---- page helpers shared by the tests -------------------------------------------------------

/** Logs `user` in through the English login page and waits until the browser is at `next`. */
export async function login(page, server, user, next = '/frontend/app') {
  await page.goto(server.page(`/frontend/en/login?next=${encodeURIComponent(next)}`));
  await fillLogin(page, user);
  await page.waitForURL((u) => u.pathname + u.search === next || u.href === server.page(next));
}

/** Fills and submits the login form on the page (any language: found by the inputs' names). */
export async function fillLogin(page, user, { password = user.password } = {}) {
  const form = page.locator('form', { has: page.locator('input[name="password"]') });
  await form.locator('input[name="email"]').fill(user.email);
  await form.locator('input[name="password"]').fill(password);
  await Promise.all([
    page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() }),
    form.locator('button[type="submit"], input[type="submit"], button:not([type])').first().click(),
  ]);
  await page.waitForLoadState();
}

/** The first `<table>` whose caption is `caption`. */
export function tableByCaption(page, caption) {
  return page.locator('table', { has: page.locator('caption', { hasText: caption }) }).first();
}

/** `m:ss` (or `h:mm:ss`) in a text, as seconds; null when there is none. */
export function parseCountdown(text) {
  const m = /(?:(\d+):)?(\d+):(\d\d)/.exec(text || '');
  if (!m) return null;
  return Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** Submits a form again without its `csrf` field, with the browser's own cookies (`page.request`),
 * and returns the response: a CSRF-protected form must answer 403. `submitter` (a locator of one
 * of its buttons) adds that button's name=value, as a click would. */
export async function postFormWithoutCsrf(page, form, submitter) {
  const button = submitter ? await submitter.elementHandle() : null;
  const { action, method, fields } = await form.evaluate((f, b) => ({
    action: f.action,
    method: (f.getAttribute('method') || 'get').toLowerCase(),
    fields: [...new FormData(f, b || undefined).entries()]
      .filter(([, v]) => typeof v === 'string'),
  }), button);
  if (method !== 'post') throw new Error(`the form posts with ${method}, not POST`);
  const hadCsrf = fields.some(([k]) => k === 'csrf');
  const data = Object.fromEntries(fields.filter(([k]) => k !== 'csrf'));
  const response = await page.request.post(action, { form: data, maxRedirects: 0, failOnStatusCode: false });
  return { response, hadCsrf, action, data };
}

/** A new transaction of the demo client (the fields of `createTransaction`), and `user` logged in
 * at its confirmation page in `lang`; returns the transaction's key. */
export async function loginToConfirm(page, server, user, { lang = 'en', ...transaction }) {
  const tx = await server.createTransaction(transaction);
  await login(page, server, user, server.confirmPath(tx.transaction_key, lang));
  return tx.transaction_key;
}

/** Clicks the confirmation page's button `name` (Accept, Reject, or a translation of them) and
 * waits for the notice of the answer; returns the notice's text. */
export async function answer(page, name) {
  await page.getByRole('button', { name }).click();
  const status = page.getByRole('status');
  await status.waitFor();
  return status.innerText();
}

/** A new transaction at the shop's checkout (`site` from `startSite`): its confirmation page in an
 * iframe (`display` 'iframe') or behind the "Open payment" button ('popup'); returns its key. */
export async function openCheckout(page, site, server, display, transaction) {
  const tx = await server.createTransaction(transaction);
  const src = server.page(`${server.confirmPath(tx.transaction_key)}?display=${display}`);
  await page.goto(site.checkout(src, display));
  return tx.transaction_key;
}

/** Clicks the checkout's "Open payment"; the pop-up window it opened. */
export async function openPopup(page) {
  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    page.getByRole('button', { name: 'Open payment' }).click(),
  ]);
  return popup;
}
