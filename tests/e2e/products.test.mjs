// Product search, identification (catalogue, then Icecat via a fake Icecat server started
// here on the port the worker was configured with), and product detail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, useKey } from './harness.mjs';

const fixture = (name) => readFileSync(new URL(`../../fixtures/icecat/${name}`, import.meta.url), 'utf8');
const hits = new Map(); // GTIN or brand/code → requests received
let server;

before(async () => {
  useKey((await createKey('internal')).key);
  server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const id = u.searchParams.get('GTIN') ?? `${u.searchParams.get('Brand')}/${u.searchParams.get('ProductCode')}`;
    hits.set(id, (hits.get(id) ?? 0) + 1);
    hits.set('last-token', req.headers['api-token']);
    hits.set('last-user', u.searchParams.get('UserName'));
    const send = (status, body) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(body); };
    switch (id) {
      case '0196548461234': case 'HP/6F6H1EA': return send(200, fixture('notebook.json'));
      case '4000000000017': return send(404, fixture('not_found.json'));
      case '4000000000024': return send(429, '{"msg":"Too many requests"}');
      case '4000000000031': return send(503, 'upstream down');
      case '4000000000055': return send(200, fixture('malformed.json'));
      case '4000000000048': return setTimeout(() => send(200, fixture('notebook.json')), 8000); // slower than the worker waits
      default: return send(404, fixture('not_found.json'));
    }
  });
  await new Promise((r) => server.listen(Number(process.env.CT_ICECAT_PORT), '127.0.0.1', r));
});
after(() => server.close());

test('search tolerates case, punctuation, word order, model-number spellings and typos', async () => {
  for (const q of ['Latitude 5420', 'latitude-5420', 'LAT5420', '5420 latitude', 'lattitude 5420']) {
    const r = await api('GET', `/products/search?q=${encodeURIComponent(q)}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data[0].id, 'dell--latitude-5420', q);
    assert.equal(r.body.data[0].brand, 'Dell');
    assert.ok(r.body.data[0].published_total_kg_co2e > 0);
  }
});

test('search filters and pages with an opaque cursor', async () => {
  const first = await api('GET', '/products/search?q=latitude&brand=dell&category=laptop&limit=5');
  assert.equal(first.body.data.length, 5);
  assert.ok(first.body.data.every((p) => p.category === 'laptop' && p.brand === 'Dell'));
  assert.ok(first.body.next_cursor);
  const second = await api('GET', `/products/search?q=latitude&brand=dell&category=laptop&limit=5&cursor=${first.body.next_cursor}`);
  assert.equal(second.body.data.length, 5);
  const ids = new Set([...first.body.data, ...second.body.data].map((p) => p.id));
  assert.equal(ids.size, 10, 'no repeats across pages');
  const p = assertProblem(await api('GET', `/products/search?q=optiplex&cursor=${first.body.next_cursor}`), 422);
  assert.equal(p.errors[0].field, 'cursor');
  const bad = assertProblem(await api('GET', '/products/search?category=toaster&limit=500'), 422);
  assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['category', 'limit', 'q']);
  const none = await api('GET', '/products/search?q=latitude&category=monitor');
  assert.deepEqual(none.body.data, []);
  assert.equal(none.body.next_cursor, null);
});

test('identify by text and by brand + MPN, with confidence, evidence and candidates', async () => {
  const r = await api('POST', '/products/identify', { body: { text: 'Dell Latitude 5420 i5 16GB' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.match.source, 'catalogue');
  assert.equal(r.body.match.product.id, 'dell--latitude-5420');
  assert.ok(r.body.match.confidence >= 0.6 && r.body.match.confidence <= 1);
  assert.ok(r.body.match.evidence.includes('5420'));
  assert.ok(r.body.candidates.length > 0);
  // The identified product feeds /footprint directly.
  const f = await api('POST', '/footprint', { body: r.body.match.footprint_request });
  assert.equal(f.body.product.id, 'dell--latitude-5420');
  const b = await api('POST', '/products/identify', { body: { brand: 'dell', mpn: 'Latitude 5420' } });
  assert.equal(b.body.match.confidence, 1);
  const p = assertProblem(await api('POST', '/products/identify', { body: { gtin: '12ab', colour: 1 } }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['colour', 'gtin']);
  assertProblem(await api('POST', '/products/identify', { body: {} }), 422);
});

test('identify asks Icecat by GTIN, maps its specs, and caches the answer', async () => {
  const r = await api('POST', '/products/identify', { body: { gtin: '0196548461234' } });
  assert.equal(r.status, 200, r.text);
  const m = r.body.match;
  assert.equal(m.source, 'icecat');
  assert.equal(m.product.category, 'laptop');
  assert.deepEqual(m.specs, { screen_size_in: 14, memory_gb: 16, storage_gb: 512, weight_kg: 1.36, typical_power_w: 9.5, release_year: 2022 });
  assert.equal(hits.get('last-token'), 'e2e-token', 'Api-Token header sent');
  assert.equal(hits.get('last-user'), 'e2e');
  // Feeds /footprint as a model estimate with Icecat's specs.
  const f = await api('POST', '/footprint', { body: m.footprint_request });
  assert.equal(f.status, 200, f.text);
  assert.equal(f.body.source, 'model');
  assert.equal(f.body.category, 'laptop');
  // Cached in KV: a repeat does not reach Icecat.
  const again = await api('POST', '/products/identify', { body: { gtin: '0196548461234' } });
  assert.equal(again.body.match.cached, true);
  assert.equal(hits.get('0196548461234'), 1);
  // Brand + product code works too.
  const bc = await api('POST', '/products/identify', { body: { brand: 'HP', mpn: '6F6H1EA' } });
  assert.equal(bc.body.match.source, 'icecat');
  assert.equal(hits.get('HP/6F6H1EA'), 1);
});

test('Icecat misses are cached; 429, 5xx, time-outs and garbage degrade to a warning, never a 5xx', async () => {
  const miss = await api('POST', '/products/identify', { body: { gtin: '4000000000017' } });
  assert.equal(miss.status, 200);
  assert.equal(miss.body.match, null);
  assert.match(miss.body.warnings.join(' '), /does not know/);
  await api('POST', '/products/identify', { body: { gtin: '4000000000017' } });
  assert.equal(hits.get('4000000000017'), 1, 'miss cached');
  for (const [gtin, why] of [['4000000000024', /429/], ['4000000000031', /503/], ['4000000000055', /invalid JSON/], ['4000000000048', /within 3 s/]]) {
    const r = await api('POST', '/products/identify', { body: { gtin } });
    assert.equal(r.status, 200, `${gtin}: ${r.text}`);
    assert.match(r.body.warnings.join(' '), why, gtin);
    await api('POST', '/products/identify', { body: { gtin } });
    assert.equal(hits.get(gtin), 2, `${gtin} not cached`);
  }
});

test('product detail: specs, published footprint with its source, assumptions', async () => {
  const r = await api('GET', '/products/dell--latitude-5420');
  assert.equal(r.status, 200);
  assert.equal(r.body.brand, 'Dell');
  assert.match(r.body.published_footprint.source_document, /^https?:\/\//);
  assert.ok(r.body.published_footprint.total_kg_co2e > 0);
  assert.ok('use' in r.body.published_footprint.stage_shares);
  assert.ok('lifetime_years' in r.body.published_assumptions);
  assertProblem(await api('GET', '/products/nope--nothing'), 404, 'not_found');
});

test('sandbox keys get search and identify fixtures', async () => {
  const k = await createKey('pro', { mode: 'test' });
  const s = await api('GET', '/products/search?q=latitude', { token: k.key });
  assert.equal(s.body._sandbox, true);
  assert.equal(s.body.data[0].brand, 'SandboxCorp');
  const i = await api('POST', '/products/identify', { body: { text: 'anything' }, token: k.key });
  assert.equal(i.body._sandbox, true);
  assert.equal(i.body.match.product.id, 'sandboxcorp--test-001');
});
