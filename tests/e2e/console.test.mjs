// The console (/console/) in a real browser (Debian's Chromium, driven by playwright-core), as
// a new user would go through it: sign up, copy the sandbox key shown once and call the API
// with it, see the call in Usage, get the email verified by the operator, switch to Live,
// create, roll and revoke a live key (each confirmed), sign out, be refused a wrong password,
// sign in; then a fleet report (PDF downloaded), a certificate (listed, PDF downloaded), an
// asset import (dropped file, per-row errors, the inventory charts and CSV) and a phone-width
// page. Throughout: the security headers, no console error, nothing from another origin, no
// secret in storage or in a URL, the mode header on every API call and the CSRF token on every
// state-changing one. Screenshots go to target/e2e-artefacts/console-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { ADMIN_TOKEN, BASE, api, eventually } from './harness.mjs';

const origin = new URL(BASE).origin;
const artefacts = new URL('../../target/e2e-artefacts/', import.meta.url).pathname;
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const email = `console-${run}@example.com`;
const password = `console password ${run}`; // at least 12 characters
const organisation = `Console E2E ${run}`;
const today = new Date().toISOString().slice(0, 10);
const lastYear = new Date().getUTCFullYear() - 1;
// Two good assets and one the API refuses (row 3: an unknown category).
const csv = `serial,category,purchase_date,country\nCON-${run}-1,laptop,${lastYear}-03-01,FR\nCON-${run}-2,monitor,${lastYear}-06-01,DE\nCON-${run}-3,toaster,${lastYear}-06-01,DE\n`;

let browser;
let context;
let page;
const errors = [];
const foreign = [];
const apiCalls = [];
const urls = [];
const secrets = []; // every key the page showed, to look for in storage and URLs

/** The console's own expected refusals: the start-up /auth/me before signing in, and the wrong
 * password. Chromium logs each failed response as a console error; anything else counts. */
function expected(msg) {
  const url = msg.location()?.url ?? '';
  return /status of 401/.test(msg.text()) && /\/api\/v1\/auth\/(me|login)$/.test(new URL(url, origin).pathname);
}

before(async () => {
  mkdirSync(artefacts, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !expected(m)) errors.push(`${m.text()} (${m.location()?.url ?? ''})`); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => { if (!r.url().startsWith('blob:')) errors.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`); });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['blob:', 'data:'].includes(u.protocol) && u.origin !== origin) foreign.push(r.url());
    if (u.origin === origin && u.pathname.startsWith('/api/v1/')) apiCalls.push({ method: r.method(), path: u.pathname, headers: r.headers() });
  });
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) urls.push(f.url()); });
});
after(async () => browser?.close());

const heading = () => page.locator('main h1');
async function go(name) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
  await heading().filter({ hasText: name }).waitFor();
}
async function switchMode(label) {
  await page.getByRole('radio', { name: label }).check();
  assert.equal(await page.getByRole('radio', { name: label }).isChecked(), true);
}
/** Click `button` and return the downloaded file's name and bytes. */
async function download(button) {
  const [d] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}
const shot = (name) => page.screenshot({ path: `${artefacts}console-${name}.png`, fullPage: true });

let sandboxKey;
test('/console/ is served with its security headers and asks a stranger to sign in', async () => {
  const res = await page.goto(`${origin}/console/`, { waitUntil: 'networkidle' });
  assert.equal(res.status(), 200);
  const h = res.headers();
  assert.match(h['content-security-policy'] ?? '', /default-src 'self'; script-src 'self'; style-src 'self'/);
  assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['referrer-policy'], 'no-referrer');
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['cache-control'], 'no-cache');
  const js = await page.request.get(`${origin}/console/app.js`);
  assert.equal(js.status(), 200);
  assert.match(js.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  assert.ok((await page.request.get(`${origin}/console/app.js.map`)).status() >= 400, 'no source map is shipped');
  // No inline script, style block or style attribute in the page as served.
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
  assert.doesNotMatch(html, /<style|\sstyle=/i);
  await page.waitForURL(/#\/signin$/);
  assert.equal(await heading().innerText(), 'Sign in');
  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
});

test('sign up: the first sandbox key is shown once, copied, and calls the API', async () => {
  await page.getByRole('link', { name: 'Create an account' }).click();
  await heading().filter({ hasText: 'Create your account' }).waitFor();
  // A short password is refused next to its field before anything is sent.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('too short');
  await page.getByLabel('Organisation').fill(organisation);
  await page.getByRole('button', { name: 'Sign up' }).click();
  assert.match(await page.locator('.field-error').first().innerText(), /at least 12 characters/i);
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();

  const field = page.getByLabel('Your sandbox key');
  await field.waitFor();
  sandboxKey = await field.inputValue();
  secrets.push(sandboxKey);
  assert.match(sandboxKey, /^ct_test_/);
  assert.equal(await field.getAttribute('readonly'), '');
  assert.match(await page.locator('.secret .warning').innerText(), /only once/);
  await page.getByRole('button', { name: 'Copy' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), sandboxKey);
  const curl = await page.locator('pre.code').innerText();
  assert.ok(curl.includes(`${origin}/api/v1/footprint`) && curl.includes(`Bearer ${sandboxKey}`), curl);
  await shot('signup-key');

  const r = await api('POST', '/footprint', { body: { category: 'laptop' }, token: sandboxKey });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body._sandbox, true);

  await page.getByRole('button', { name: 'Continue to the console' }).click();
  await heading().filter({ hasText: 'API keys' }).waitFor();
  assert.equal(await page.locator('header .org').innerText(), organisation);
  // Live waits for a verified email, and says so.
  assert.equal(await page.getByRole('radio', { name: 'Live' }).isDisabled(), true);
  assert.match(await page.locator('#live-why').innerText(), /Verify your email/);
  assert.equal(await page.getByRole('radio', { name: 'Sandbox' }).isChecked(), true);
});

test('usage shows the sandbox call, as meters, a chart and a table', async () => {
  await go('Usage');
  const cell = page.locator('#usage-table tbody tr', { has: page.locator('th', { hasText: today }) }).locator('td').nth(1);
  await eventually(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await cell.waitFor();
    return Number((await cell.innerText()).replace(/\D/g, '')) >= 1;
  }, { what: "today's sandbox count in the usage table" });
  assert.ok(await page.locator('.chart canvas').count() >= 1, 'the chart is drawn');
  assert.match(await page.locator('.chart').first().getAttribute('aria-label'), /Calls per day/);
  const today_ = page.locator('.meter', { hasText: 'Today (UTC)' });
  assert.match(await today_.innerText(), /\d+ of \d+/);
  assert.ok(await today_.locator('meter').count() === 1);
  await shot('usage');
});

let liveKey;
let rolledKey;
let certificate;
test('once the operator verified the email: Live, and a live key created, rolled and revoked', async () => {
  const v = await api('POST', `/admin/users/${encodeURIComponent(email)}/verify`, { token: ADMIN_TOKEN });
  assert.equal(v.status, 200, v.text);
  await page.reload({ waitUntil: 'networkidle' });
  await heading().filter({ hasText: 'Usage' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: 'Live' }).isDisabled(), false);
  await switchMode('Live');
  await page.locator('.live-banner').waitFor();
  await go('API keys');
  assert.match(await page.locator('main h2', { hasText: 'Create a' }).innerText(), /live key/);

  await page.getByLabel('Name', { exact: true }).fill('e2e live');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.locator('.secret input');
  await secret.waitFor();
  liveKey = await secret.inputValue();
  secrets.push(liveKey);
  assert.match(liveKey, /^ct_live_/);
  const prefix = liveKey.slice(0, 12);
  await page.locator('tr', { hasText: `${prefix}…` }).waitFor();
  await shot('keys-live');

  // The live key works: it issues a (signed, stored) certificate for the Certificates page.
  const c = await api('POST', '/certificates', { body: { footprint: { product: { id: 'dell--latitude-5420' }, use: { country: 'FR' } }, asset: { serial: `CON-${run}` } }, token: liveKey });
  assert.equal(c.status, 201, c.text);
  certificate = c.body;

  // Roll, confirmed in a dialog; the old key stops at once.
  await page.getByRole('button', { name: `Roll key e2e live (${prefix}…)` }).click();
  const rollDialog = page.getByRole('dialog', { name: `Roll key e2e live (${prefix}…)?` });
  await rollDialog.waitFor();
  await rollDialog.getByRole('button', { name: 'Roll key' }).click();
  await rollDialog.waitFor({ state: 'hidden' });
  await eventually(async () => (await secret.inputValue()) !== liveKey, { what: 'the rolled secret' });
  rolledKey = await secret.inputValue();
  secrets.push(rolledKey);
  assert.match(rolledKey, /^ct_live_/);
  const newPrefix = rolledKey.slice(0, 12);
  // (GET /usage checks a key without spending the Free plan's few live calls a minute.)
  await eventually(async () => (await api('GET', '/usage', { token: liveKey })).status === 401, { what: 'the old key refused' });
  assert.equal((await api('GET', '/usage', { token: rolledKey })).status, 200);

  // Revoke, confirmed; cancelling first changes nothing.
  const revoke = page.getByRole('button', { name: `Revoke key e2e live (${newPrefix}…)` });
  await revoke.click();
  const revokeDialog = page.getByRole('dialog', { name: `Revoke key e2e live (${newPrefix}…)?` });
  assert.match(await revokeDialog.innerText(), /This cannot be undone/);
  await revokeDialog.getByRole('button', { name: 'Cancel' }).click();
  await revokeDialog.waitFor({ state: 'hidden' });
  assert.equal((await api('GET', '/usage', { token: rolledKey })).status, 200);
  assert.match(await page.locator('tr', { hasText: `${newPrefix}…` }).innerText(), /Active/);
  await revoke.click();
  await revokeDialog.getByRole('button', { name: 'Revoke key' }).click();
  await page.locator('tr', { hasText: `${newPrefix}…` }).filter({ hasText: 'Revoked' }).waitFor();
  await eventually(async () => (await api('GET', '/usage', { token: rolledKey })).status === 401,
    { ms: 10000, what: 'the revoked key refused' });
});

test('sign out; a wrong password is refused; the right one signs in', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading().filter({ hasText: 'Sign in' }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Usage' }).count(), 0);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(`${password} wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading().filter({ hasText: 'API keys' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: 'Sandbox' }).isChecked(), true, 'a new sign-in starts in the sandbox');
});

test('reports: a fleet report is made and its PDF downloaded', async () => {
  await switchMode('Live');
  await go('Reports');
  await page.getByLabel('Report', { exact: true }).selectOption('sustainability');
  await page.getByLabel('Title (optional)').fill(`Console fleet ${run}`);
  await page.getByRole('button', { name: 'Create report' }).click();
  const row = page.locator('tr[data-report-id]').first();
  await row.waitFor();
  const id = await row.getAttribute('data-report-id');
  assert.match(id, /^rep_/);
  await page.locator(`tr[data-report-id="${id}"][data-status="done"]`).waitFor({ timeout: 60000 });
  const file = await download(page.getByRole('button', { name: `Download the PDF of ${id}` }));
  assert.match(file.name, /\.pdf$/);
  assert.equal(file.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
  await shot('reports');
});

test('certificates: the one issued with the live key is listed and its PDF downloaded', async () => {
  await go('Certificates');
  const row = page.locator(`tr[data-certificate-id="${certificate.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Valid/);
  assert.equal(await row.getByRole('link', { name: /Verify/ }).getAttribute('href'), certificate.verification_url);
  const file = await download(row.getByRole('button', { name: `Download the PDF of ${certificate.id}` }));
  assert.equal(file.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
  await shot('certificates');
});

test('inventory: a dropped CSV is imported with its row errors, then charted and exported', async () => {
  await go('Inventory');
  // Drop the file on the drop zone, as a person dragging it from their desktop would.
  const dt = await page.evaluateHandle((text) => {
    const d = new DataTransfer();
    d.items.add(new File([text], 'assets.csv', { type: 'text/csv' }));
    return d;
  }, csv);
  await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
  const result = page.locator('#import-result');
  await result.waitFor({ timeout: 30000 });
  assert.match(await result.locator('h3').innerText(), /Imported: 3 rows/);
  assert.match(await result.locator('dl').innerText(), /Created\s+2/);
  const bad = result.locator('tbody tr');
  assert.equal(await bad.count(), 1);
  assert.deepEqual((await bad.locator('td').allInnerTexts()).slice(0, 2), ['3', 'category']);
  // The same file again through the file input: nothing changes.
  await page.getByLabel('Choose a file').setInputFiles({ name: 'assets.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await eventually(async () => /Unchanged\s+2/.test(await result.locator('dl').innerText()), { what: 'the re-import' });

  await page.getByLabel('Reporting year').selectOption(String(lastYear));
  const total = page.locator('#inventory-table tr', { hasText: 'Total (location-based)' }).locator('td').first();
  await eventually(async () => (await total.count()) > 0 && Number((await total.innerText()).replace(/[^\d.]/g, '')) > 0,
    { what: 'a non-zero inventory total' });
  assert.ok(await page.locator('.charts canvas').count() >= 2, 'the Scope 2 and Scope 3 charts are drawn');
  await page.getByRole('heading', { name: 'Across years' }).waitFor();
  await page.locator('figure', { hasText: 'per reporting year' }).locator('canvas').first().waitFor();
  const file = await download(page.getByRole('button', { name: 'Download CSV' }));
  assert.match(file.name, /\.csv$/);
  assert.match(file.bytes.toString('utf8'), /^section,name,value_kg_co2e/);
  await shot('inventory');
});

test('members: the owner invites by a link shown once; the invitee joins in another browser, as a member who manages no keys', async () => {
  await go('Members');
  const invitee = `member-${run}@example.com`;
  await page.getByLabel('Email').fill(invitee);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  const link = await page.getByLabel('Invitation link').inputValue();
  assert.match(link, new RegExp(`^${origin}/console/#/join\\?token=ctinv_[0-9a-f]{64}$`));
  secrets.push(new URL(link).hash.split('token=')[1]);
  await page.getByRole('table', { name: 'Open invitations' }).getByText(invitee).waitFor();
  await shot('members');
  // The invitee: another browser context (no cookie of the owner's), the link, a password.
  const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const joiner = await other.newPage();
  const joinErrors = [];
  joiner.on('pageerror', (e) => joinErrors.push(String(e)));
  await joiner.goto(link, { waitUntil: 'networkidle' });
  assert.ok(!joiner.url().includes('ctinv_'), 'the token is scrubbed from the address bar');
  await joiner.getByLabel('Password', { exact: true }).fill('member password long enough');
  await joiner.getByLabel('Repeat the password').fill('member password long enough');
  await joiner.getByRole('button', { name: 'Accept the invitation' }).click();
  await joiner.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys', exact: true }).click();
  await joiner.locator('main h1').filter({ hasText: 'API keys' }).waitFor();
  assert.equal(await joiner.getByRole('button', { name: 'Create key' }).count(), 0, 'a member gets no key controls');
  await joiner.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Members', exact: true }).click();
  await joiner.getByRole('table', { name: 'Members' }).getByText(invitee).waitFor();
  assert.equal(await joiner.getByRole('button', { name: 'Invite', exact: true }).count(), 0, 'a member invites no one');
  await joiner.screenshot({ path: `${artefacts}console-member.png`, fullPage: true });
  assert.deepEqual(joinErrors, []);
  await other.close();
  // The owner sees the member and removes them (confirmed).
  await page.reload({ waitUntil: 'networkidle' });
  await go('Members');
  await page.getByRole('button', { name: `Remove ${invitee}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove member' }).click();
  await page.getByRole('table', { name: 'Members' }).getByText(invitee).waitFor({ state: 'detached' });
});

test('on a phone (375 px) the page fits, and the menu opens from a button', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  const menu = page.getByRole('button', { name: 'Menu' });
  const usage = page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Usage', exact: true });
  assert.equal(await menu.isVisible(), true);
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await usage.isVisible(), false, 'the pages are behind the menu');
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await go('Usage');
  await page.locator('#usage-table').waitFor();
  assert.equal(await usage.isVisible(), false, 'the menu closes on the way to a page');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'no horizontal scrolling');
  await page.screenshot({ path: `${artefacts}console-phone-usage.png`, fullPage: true });
});

test('no secret in storage or a URL, the mode on every call, CSRF on every change, no error, nothing foreign', async () => {
  const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]));
  for (const s of secrets) {
    assert.ok(!stored.includes(s), 'a key in storage');
    assert.ok(!urls.some((u) => u.includes(s)), 'a key in a URL');
  }
  assert.ok(!stored.includes('ct_session'), 'the session cookie is HttpOnly');
  assert.ok(apiCalls.length > 20, `${apiCalls.length} API calls seen`);
  for (const c of apiCalls) {
    assert.match(c.headers['x-carbontrace-mode'] ?? '', /^(test|live)$/, `${c.method} ${c.path} names its mode`);
    const exempt = ['/api/v1/auth/login', '/api/v1/auth/signup'].includes(c.path);
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.method) && !exempt) {
      assert.match(c.headers['x-csrf-token'] ?? '', /.+/, `${c.method} ${c.path} carries the CSRF token`);
    }
  }
  assert.ok(apiCalls.some((c) => c.headers['x-carbontrace-mode'] === 'live'), 'live calls were made');
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
});
