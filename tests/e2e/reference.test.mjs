// Reference endpoints (public, cacheable) and run-time factor-set replacement through KV.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, useKey, ADMIN_TOKEN } from './harness.mjs';

// Metered calls go through an internal-plan key: the anonymous free tier (5/min) is tested in keys.test.mjs.
before(async () => useKey((await createKey('internal')).key));

const gridDoc = JSON.parse(readFileSync(new URL('../../factors/grid.json', import.meta.url)));
const categoriesDoc = JSON.parse(readFileSync(new URL('../../factors/categories.json', import.meta.url)));

test('countries and regions with their grid factor', async () => {
  const r = await api('GET', '/reference/countries');
  assert.equal(r.status, 200);
  const codes = new Map(r.body.data.map((c) => [c.code, c]));
  for (const c of ['FR', 'DE', 'US', 'CN', 'WW', 'EU', 'NA', 'ASIA']) assert.ok(codes.has(c), c);
  assert.equal(codes.get('FR').alpha3, 'FRA');
  assert.equal(r.body.factor_set_version, gridDoc.version);
});

test('grid factors, filtered by country, with source and licence', async () => {
  const all = await api('GET', '/reference/grid-factors');
  assert.equal(all.body.count, gridDoc.entries.length);
  assert.match(all.body.source, /Our World in Data/);
  const fr = await api('GET', '/reference/grid-factors?country=fra');
  assert.equal(fr.status, 200);
  assert.equal(fr.body.data.length, 1);
  assert.equal(fr.body.data[0].code, 'FR');
  assert.ok(fr.body.data[0].year >= 2020);
  const p = assertProblem(await api('GET', '/reference/grid-factors?country=ZZ'), 400, 'unknown_country');
  assert.equal(p.errors[0].field, 'country');
});

test('categories with default assumptions', async () => {
  const r = await api('GET', '/reference/categories');
  const laptop = r.body.data.find((c) => c.id === 'laptop');
  const src = categoriesDoc.categories.find((c) => c.id === 'laptop');
  assert.equal(laptop.defaults.lifetime_years, src.lifetime_years);
  assert.equal(laptop.defaults.yearly_kwh, src.yearly_kwh);
  for (const id of ['desktop', 'monitor', 'server', 'smartphone', 'tablet', 'thin_client', 'workstation', 'printer']) {
    assert.ok(r.body.data.some((c) => c.id === id), id);
  }
});

test('reference responses are cacheable: ETag, Cache-Control, 304', async () => {
  for (const path of ['/reference/countries', '/reference/grid-factors', '/reference/categories', '/reference/grid-factors?country=DE']) {
    const r = await api('GET', path);
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{24}"$/);
    assert.match(r.headers.get('cache-control'), /public, max-age=\d+/);
    const again = await api('GET', path, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304, path);
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
    const stale = await api('GET', path, { headers: { 'If-None-Match': '"0000"' } });
    assert.equal(stale.status, 200);
  }
});

test('a newer factor set stored in KV replaces the built-in one at run time', async () => {
  const version = 'e2e-test.1';
  const entries = gridDoc.entries.map((e) => (e.code === 'FR' ? { ...e, g_co2e_per_kwh: 500 } : e));
  const doc = { version, grid: { ...gridDoc, version, entries }, categories: { ...categoriesDoc, version } };
  assertProblem(await api('PUT', `/admin/factor-sets/${version}`, { body: doc }), 401);
  assertProblem(await api('PUT', `/admin/factor-sets/other`, { body: doc, token: ADMIN_TOKEN }), 400, 'version_mismatch');
  assertProblem(await api('PUT', `/admin/factor-sets/${version}`, { body: { version }, token: ADMIN_TOKEN }), 400, 'invalid_factor_set');
  try {
    const put = await api('PUT', `/admin/factor-sets/${version}`, { body: doc, token: ADMIN_TOKEN });
    assert.equal(put.status, 200, put.text);
    const f = await api('POST', '/footprint', { body: { category: 'laptop', use: { country: 'FR', yearly_kwh: 10, lifetime_years: 2 } } });
    assert.equal(f.body.methodology.factor_set_version, version);
    assert.ok(Math.abs(f.body.breakdown.use_kg - 10) < 0.01, JSON.stringify(f.body.breakdown));
    const ref = await api('GET', '/reference/grid-factors?country=FR');
    assert.equal(ref.body.data[0].g_co2e_per_kwh, 500);
    const h = await api('GET', '/health');
    assert.equal(h.body.factor_set_version, version);
  } finally {
    const reset = await api('DELETE', '/admin/factor-sets/active', { token: ADMIN_TOKEN });
    assert.equal(reset.status, 200);
  }
  const back = await api('POST', '/footprint', { body: { category: 'laptop', use: { country: 'FR' } } });
  assert.equal(back.body.methodology.factor_set_version, gridDoc.version);
});
