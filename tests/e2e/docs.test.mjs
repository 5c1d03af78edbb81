// The docs site in a real browser (Debian's Chromium, driven by playwright-core): every page
// loads without a console error and links to the others, the reference lists every operation
// of the OpenAPI document, and its console's "Try it out" on POST /footprint with a sandbox key
// returns the sandbox fixture. A screenshot of each page is kept in target/e2e-artefacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { BASE, createKey } from './harness.mjs';

const origin = new URL(BASE).origin;
const artefacts = new URL('../../target/e2e-artefacts/', import.meta.url).pathname;
const doc = JSON.parse(readFileSync(new URL('../../src/api/openapi.json', import.meta.url)));
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/sandbox/footprint.json', import.meta.url)));
const operations = Object.values(doc.paths).flatMap((p) => Object.keys(p).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m)));

let browser;
before(async () => {
  mkdirSync(artefacts, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
});
after(async () => browser?.close());

/** Open a page, collecting console errors and failed requests. */
async function open(path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
  const res = await page.goto(origin + path, { waitUntil: 'networkidle' });
  return { page, res, errors };
}

for (const [path, name, heading] of [
  ['/docs/quickstart', 'quickstart', /first footprint/i],
  ['/docs/bi-export', 'bi-export', /Power BI, Excel and Tableau/],
]) {
  test(`${path} loads, links to the other pages, no console error`, async () => {
    const { page, res, errors } = await open(path);
    assert.equal(res.status(), 200);
    assert.match(await page.locator('h1').innerText(), heading);
    const links = await page.locator('header a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const l of ['/docs', '/docs/quickstart', '/docs/bi-export']) assert.ok(links.includes(l), `${path} links ${l}`);
    // Nothing from another origin.
    const foreign = await page.evaluate((o) => performance.getEntriesByType('resource').map((e) => e.name).filter((u) => !u.startsWith(o)), origin);
    assert.deepEqual(foreign, []);
    await page.screenshot({ path: `${artefacts}docs-${name}.png`, fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('/docs lists every operation, and "Try it out" with a sandbox key returns the fixture', async () => {
  const { page, res, errors } = await open('/docs');
  assert.equal(res.status(), 200);
  await page.waitForSelector('.opblock');
  const shown = await page.locator('.opblock').count();
  assert.equal(shown, operations.length, `${shown} operations shown, ${operations.length} documented`);
  await page.screenshot({ path: `${artefacts}docs-reference.png`, fullPage: false });

  const sandbox = (await createKey('pro', { mode: 'test' })).key;
  await page.evaluate((k) => window.ui.preauthorizeApiKey('bearer', k), sandbox);
  const opId = doc.paths['/footprint'].post.operationId;
  const tag = doc.paths['/footprint'].post.tags[0];
  const op = page.locator(`#operations-${tag}-${opId}`);
  await op.locator('.opblock-summary').first().click();
  await op.locator('.try-out__btn').click();
  await op.locator('button.execute').click();
  const body = op.locator('.live-responses-table .response-col_description pre').first();
  await body.waitFor({ timeout: 15000 });
  const answer = JSON.parse(await body.innerText());
  assert.equal(answer._sandbox, true);
  assert.equal(answer.total_kg_co2e, fixture.total_kg_co2e);
  const status = await op.locator('.live-responses-table tbody .response-col_status').first().innerText();
  assert.equal(status.trim(), '200');
  await op.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${artefacts}docs-try-it.png`, fullPage: false });
  assert.deepEqual(errors, []);
  await page.close();
});
