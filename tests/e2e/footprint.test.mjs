// POST /footprint, /footprint/batch and /savings against the real worker.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, useKey, ADMIN_TOKEN } from './harness.mjs';

// Metered calls go through an internal-plan key: the anonymous free tier (5/min) is tested in keys.test.mjs.
before(async () => useKey((await createKey('internal')).key));

const catalogue = JSON.parse(readFileSync(new URL('../../factors/catalogue.json', import.meta.url))).products;
const gridDoc = JSON.parse(readFileSync(new URL('../../factors/grid.json', import.meta.url)));
const categoriesDoc = JSON.parse(readFileSync(new URL('../../factors/categories.json', import.meta.url)));
const grid = (code) => gridDoc.entries.find((e) => e.code === code).g_co2e_per_kwh / 1000;

test('catalogue products answer within 5% of their published totals', async () => {
  // Every 20th product: all categories, with and without published kWh.
  for (const p of catalogue.filter((_, i) => i % 20 === 0)) {
    const r = await api('POST', '/footprint', { body: { product: { id: p.id } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.source, 'manufacturer_pcf');
    assert.equal(r.body.product.id, p.id);
    const err = Math.abs(r.body.total_kg_co2e - p.total_kg) / p.total_kg;
    assert.ok(err <= 0.05, `${p.id}: ${r.body.total_kg_co2e} vs ${p.total_kg}`);
    const b = r.body.breakdown;
    assert.ok(Math.abs(b.production_kg + b.transport_kg + b.use_kg + b.end_of_life_kg - r.body.total_kg_co2e) < 0.05);
    assert.ok(r.body.uncertainty.low_kg <= r.body.total_kg_co2e && r.body.total_kg_co2e <= r.body.uncertainty.high_kg);
    assert.equal(r.body.methodology.factor_set_version, gridDoc.version);
  }
});

test('brand and model resolve to the catalogue product', async () => {
  const p = catalogue.find((x) => x.id === 'apple--13-inch-macbook-air-m1-cpu-256gb-2020');
  const r = await api('POST', '/footprint', { body: { product: { brand: 'apple', model: '13 inch MacBook Air (M1 CPU) 256GB 2020' } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.product.id, p.id);
  assert.equal(r.body.total_kg_co2e, p.total_kg);
});

test('a new country or lifetime recomputes the use phase with our grid factors', async () => {
  const p = catalogue.find((x) => x.brand === 'Dell' && x.category === 'desktop' && x.yearly_kwh && x.share_use);
  const base = (await api('POST', '/footprint', { body: { product: { id: p.id } } })).body;
  const fr = (await api('POST', '/footprint', { body: { product: { id: p.id }, use: { country: 'FRA', lifetime_years: 5 } } })).body;
  const pl = (await api('POST', '/footprint', { body: { product: { id: p.id }, use: { country: 'pl', lifetime_years: 5 } } })).body;
  assert.equal(fr.breakdown.production_kg, base.breakdown.production_kg);
  assert.ok(Math.abs(fr.breakdown.use_kg - p.yearly_kwh * 5 * grid('FR')) < 0.02, JSON.stringify(fr.breakdown));
  assert.ok(pl.breakdown.use_kg > fr.breakdown.use_kg * 5);
  const g = fr.assumptions.find((a) => a.name === 'grid_intensity');
  assert.equal(g.source, 'factor_set');
  assert.ok(fr.warnings.some((w) => /recomputed/.test(w)));
});

test('the model estimates a device from its category and says what it defaulted', async () => {
  const r = await api('POST', '/footprint', { body: { category: 'laptop' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.source, 'model');
  for (const d of ['use.country', 'use.lifetime_years', 'use.yearly_kwh']) assert.ok(r.body.defaulted.includes(d), d);
  const life = r.body.assumptions.find((a) => a.name === 'lifetime_years');
  assert.equal(life.source, 'category_default');
  assert.equal(life.value, categoriesDoc.categories.find((c) => c.id === 'laptop').lifetime_years);
  const full = await api('POST', '/footprint', { body: {
    category: 'laptop', product: { brand: 'Dell', model: 'Latitude 9999 prototype' },
    specs: { screen_size_in: 14, weight_kg: 1.4, release_year: 2022, memory_gb: 16, ssd_gb: 512 },
    use: { country: 'DE', lifetime_years: 4, yearly_kwh: 20 } } });
  assert.equal(full.status, 200, full.text);
  assert.equal(full.body.source, 'model');
  assert.ok(!full.body.defaulted.includes('use.yearly_kwh'));
  assert.ok(Math.abs(full.body.breakdown.use_kg - 20 * 4 * grid('DE')) < 0.02);
  assert.ok(full.body.total_kg_co2e > 100 && full.body.total_kg_co2e < 1000, full.text);
  assert.ok(full.body.assumptions.find((a) => a.name === 'embodied_kg').note.includes('dell--'));
});

test('bad input is a 4xx problem naming every bad field', async () => {
  let p = assertProblem(await api('POST', '/footprint', { body: {
    category: 'toaster', specs: { screen_size_in: 900, weight_kg: 'heavy' },
    use: { country: 'XX', lifetime_years: 300, yearly_kwh: -5 }, colour: 'red' } }), 422, 'validation_failed');
  const fields = p.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['category', 'colour', 'specs.screen_size_in', 'specs.weight_kg', 'use.country', 'use.lifetime_years', 'use.yearly_kwh'].sort());
  assertProblem(await api('POST', '/footprint', { raw: '{"category": "laptop"', headers: { 'Content-Type': 'application/json' } }), 400, 'malformed_json');
  assertProblem(await api('POST', '/footprint', { raw: '', headers: { 'Content-Type': 'application/json' } }), 400, 'malformed_json');
  assertProblem(await api('POST', '/footprint', { raw: 'category=laptop', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415);
  assertProblem(await api('POST', '/footprint', { raw: JSON.stringify({ category: 'laptop', pad: 'x'.repeat(5 * 1024 * 1024) }),
    headers: { 'Content-Type': 'application/json' } }), 413, 'payload_too_large');
  p = assertProblem(await api('POST', '/footprint', { body: {} }), 422);
  assert.equal(p.errors[0].field, 'category');
  p = assertProblem(await api('POST', '/footprint', { body: { product: { id: 'nope--nothing' } } }), 422);
  assert.equal(p.errors[0].field, 'product.id');
  p = assertProblem(await api('POST', '/footprint', { body: [1, 2] }), 422);
  assert.equal(p.errors[0].field, 'body');
  assertProblem(await api('POST', '/footprint', { body: { category: 'laptop' }, token: 'ct_live_notakey' }), 401, 'malformed_api_key');
});

test('a batch answers in order, with one problem per bad item', async () => {
  const r = await api('POST', '/footprint/batch', { body: { devices: [
    { category: 'laptop' }, { category: 'toaster' }, { product: { id: catalogue[0].id } }, 'nonsense'] } });
  assert.equal(r.status, 200, r.text);
  const [a, b, c, d] = r.body.results;
  assert.equal(a.source, 'model');
  assert.equal(b.index, 1);
  assert.equal(b.error.status, 422);
  assert.equal(b.error.errors[0].field, 'devices[1].category');
  assert.equal(c.product.id, catalogue[0].id);
  assert.equal(d.error.errors[0].field, 'devices[3]');
  const { count, succeeded, failed } = r.body.summary;
  assert.deepEqual({ count, succeeded, failed }, { count: 4, succeeded: 2, failed: 2 });
  assert.ok(Math.abs(r.body.summary.total_kg_co2e - (a.total_kg_co2e + c.total_kg_co2e)) < 0.02);
});

// Issue 15: every category answers with a 90% range; every spec moves the total or is listed
// in `ignored` with its reason. One batch of 7 categories × 7 specs × 2 values.
test('every category answers with a 90% range, and every spec counts or is listed as ignored', async () => {
  const plausible = {
    smartphone: { screen_size_in: [6.1, 6.7], weight_kg: [0.17, 0.22], memory_gb: [4, 8], ssd_gb: [128, 512] },
    tablet: { screen_size_in: [10.2, 12.9], weight_kg: [0.45, 0.7], memory_gb: [4, 8], ssd_gb: [64, 256] },
    monitor: { screen_size_in: [23.8, 27], weight_kg: [4.5, 6.5], memory_gb: [8, 16], ssd_gb: [256, 512] },
    server: { screen_size_in: [15.6, 17.3], weight_kg: [18, 30], memory_gb: [32, 256], ssd_gb: [480, 1920] },
    desktop: { screen_size_in: [23.8, 27], weight_kg: [5, 8], memory_gb: [8, 32], ssd_gb: [256, 1024] },
    printer: { screen_size_in: [4.3, 7], weight_kg: [12, 20], memory_gb: [1, 2], ssd_gb: [0, 32] },
    laptop: { screen_size_in: [13.3, 15.6], weight_kg: [1.3, 2], memory_gb: [8, 32], ssd_gb: [256, 1024] },
  };
  const pairs = [];
  for (const [category, v] of Object.entries(plausible)) {
    const values = { ...v, release_year: [2019, 2022], hdd_gb: [0, 2000], cpu_count: [1, 2] };
    for (const [field, [a, b]] of Object.entries(values)) pairs.push({ category, field, a, b });
  }
  const devices = pairs.flatMap(({ category, field, a, b }) => [a, b].map((x) => ({ category, product: { brand: 'Dell' }, specs: { [field]: x } })));
  const r = await api('POST', '/footprint/batch', { body: { devices } });
  assert.equal(r.status, 200, r.text.slice(0, 500));
  assert.equal(r.body.summary.failed, 0);
  let moved = 0;
  pairs.forEach(({ category, field, a, b }, i) => {
    const [fa, fb] = [r.body.results[2 * i], r.body.results[2 * i + 1]];
    for (const f of [fa, fb]) {
      assert.equal(f.uncertainty.confidence, 0.9, `${category}: ${JSON.stringify(f.uncertainty)}`);
      assert.ok(f.uncertainty.low_kg <= f.total_kg_co2e && f.total_kg_co2e <= f.uncertainty.high_kg);
    }
    const listed = fb.ignored.find((x) => x.field === `specs.${field}`);
    assert.equal(Boolean(fa.ignored.find((x) => x.field === `specs.${field}`)), Boolean(listed), `${category} ${field}`);
    if (fa.total_kg_co2e === fb.total_kg_co2e) {
      assert.ok(listed && listed.reason.length > 10, `${category}: specs.${field} ${a} → ${b} changes nothing and is not listed as ignored`);
    } else {
      moved += 1;
    }
  });
  assert.ok(moved >= 12, `only ${moved} spec changes moved a total`);

  // The example: a Dell server with 8 GB or 64 GB of memory no longer gets one figure.
  const server = (gb) => ({ category: 'server', product: { brand: 'Dell' }, specs: { memory_gb: gb, weight_kg: 20 }, use: { yearly_kwh: 1200 } });
  const [s8, s64] = (await api('POST', '/footprint/batch', { body: { devices: [server(8), server(64)] } })).body.results;
  assert.ok(s64.total_kg_co2e > s8.total_kg_co2e, `${s8.total_kg_co2e} vs ${s64.total_kg_co2e}`);
  assert.deepEqual(s8.ignored, []);
  // A catalogue product is answered as published: every spec given is listed as ignored.
  const pub = (await api('POST', '/footprint', { body: { product: { id: catalogue[0].id }, specs: { memory_gb: 16 } } })).body;
  assert.equal(pub.ignored[0].field, 'specs.memory_gb');
});

test('batch size is limited by plan', async () => {
  const eleven = Array.from({ length: 11 }, () => ({ category: 'monitor' }));
  const free = (await createKey('free')).key;
  const p = assertProblem(await api('POST', '/footprint/batch', { body: { devices: eleven }, token: free }), 413, 'batch_too_large');
  assert.equal(p.limit, 10);
  assert.equal(p.errors[0].field, 'devices');
  assertProblem(await api('POST', '/footprint/batch', { body: { devices: [] } }), 422);
  assertProblem(await api('POST', '/footprint/batch', { body: { items: [] } }), 422);
  const thousand = catalogue.slice(0, 500).flatMap((p) => [{ product: { id: p.id } }, { category: p.category, specs: { screen_size_in: p.screen_size_in ?? undefined } }]);
  const big = await api('POST', '/footprint/batch', { body: { devices: thousand }, token: ADMIN_TOKEN });
  assert.equal(big.status, 200, big.text.slice(0, 500));
  assert.equal(big.body.results.length, 1000);
  assert.equal(big.body.summary.failed, 0);
  assertProblem(await api('POST', '/footprint/batch', { body: { devices: [...thousand, { category: 'laptop' }] }, token: ADMIN_TOKEN }), 413);
});

test('savings: reuse, refurbishment, lifetime extension against a recycling baseline', async () => {
  const device = { category: 'laptop', use: { country: 'FR' } };
  const get = async (scenario, extra) => {
    const r = await api('POST', '/savings', { body: { device, scenario, ...extra } });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const reuse = await get('reuse', { extra_years: 2 });
  const refurb = await get('refurbish', { extra_years: 2 });
  const ext = await get('lifetime_extension', { extra_years: 1 });
  const recycling = await get('recycling');
  const nd = reuse.new_device.breakdown;
  const life = reuse.new_device.assumptions.find((a) => a.name === 'lifetime_years').value;
  const displaced = 0.8 * (nd.production_kg + nd.transport_kg) * 2 / life;
  assert.ok(Math.abs(reuse.breakdown.displaced_production_kg - displaced) < 0.02);
  assert.ok(reuse.avoided_kg_co2e > 0 && reuse.avoided_kg_co2e < displaced);
  assert.ok(refurb.avoided_kg_co2e < reuse.avoided_kg_co2e, 'refurbishment costs parts');
  assert.ok(refurb.breakdown.replacement_parts_kg > 0);
  assert.equal(recycling.avoided_kg_co2e, 0);
  assert.ok(ext.avoided_kg_co2e > 0);
  assert.match(reuse.label, /not an offset/);
  assert.ok(reuse.defaulted.includes('displacement_rate'));
  const p = assertProblem(await api('POST', '/savings', { body: { device: { category: 'toaster' }, scenario: 'burn', displacement_rate: 2 } }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['device.category', 'displacement_rate', 'scenario']);
});
