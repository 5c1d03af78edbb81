// Fleet reports through the real local Queue: create, poll until done, fetch the PDF, check
// it with qpdf and pdftotext against the figures the API computes for the same devices.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, eventually, fetchPdf } from './harness.mjs';

const catalogue = JSON.parse(readFileSync(new URL('../../factors/catalogue.json', import.meta.url))).products;
let key;
before(async () => { key = (await createKey('enterprise', { org: `Reports Org ${Date.now()}` })).key; });

function fleet(n) {
  return Array.from({ length: n }, (_, i) => {
    const p = catalogue[(i * 7) % catalogue.length];
    return i % 3 === 0 ? { product: { id: p.id } } : { category: p.category === 'printer' ? 'laptop' : p.category, use: { country: ['FR', 'DE', 'PL', 'US'][i % 4] } };
  });
}

async function finished(id) {
  return eventually(async () => {
    const r = await api('GET', `/reports/${id}`, { token: key });
    return ['done', 'failed'].includes(r.body.status) ? r.body : null;
  }, { ms: 120000, every: 300, what: `report ${id}` });
}

const pdfText = (id) => fetchPdf(`/reports/${id}?format=pdf`, key);

test('a sustainability report of 100 devices matches the API figures', async () => {
  const devices = [...fleet(99), { category: 'toaster' }];
  const r = await api('POST', '/reports', { body: { type: 'sustainability', title: 'IT fleet 2026', period: '2026', devices }, token: key });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.status, 'queued');
  const early = await api('GET', `/reports/${r.body.id}?format=pdf`, { token: key });
  if (early.status !== 200) assertProblem(early, 409, 'report_not_ready');
  const done = await finished(r.body.id);
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.summary.devices, 99);
  assert.equal(done.summary.skipped, 1);
  assert.equal(done.summary.skipped_devices[0].index, 99);
  // The same devices through the batch endpoint give the same total.
  const batch = await api('POST', '/footprint/batch', { body: { devices: devices.slice(0, 99) }, token: key });
  assert.ok(Math.abs(batch.body.summary.total_kg_co2e - done.summary.total_kg_co2e) < 0.5,
    `${batch.body.summary.total_kg_co2e} vs ${done.summary.total_kg_co2e}`);
  // The fleet's range is narrower than the sum of the devices' ranges: their errors are not all
  // the same error (independent, plus a shared methodology share; lca::uncertainty), so they
  // partly cancel. Same figures from the batch summary.
  const devicesLow = batch.body.results.reduce((s, x) => s + x.uncertainty.low_kg, 0);
  const devicesHigh = batch.body.results.reduce((s, x) => s + x.uncertainty.high_kg, 0);
  const [low, high] = done.summary.range_kg_co2e;
  assert.ok(low > devicesLow && high < devicesHigh, `${low}–${high} within ${devicesLow}–${devicesHigh}`);
  assert.ok(low < done.summary.total_kg_co2e && done.summary.total_kg_co2e < high);
  assert.deepEqual(batch.body.summary.range_kg_co2e.map(Math.round), [low, high].map(Math.round));
  assert.equal(batch.body.summary.range_confidence, 0.9);
  const { pages, bytes, text } = await pdfText(r.body.id);
  console.log(`sustainability report, 100 devices: ${bytes} bytes, ${pages} pages, ${JSON.stringify(done.summary.timing_ms)} ms`);
  assert.ok(pages >= 2, `${pages} pages`);
  assert.ok(text.includes(done.summary.total_kg_co2e.toFixed(2)), 'total in the PDF');
  assert.match(text, /By category/);
  assert.match(text, /page 1 of \d+/);
  assert.ok(text.includes('#100: devices[99].category'), 'skipped device listed with its reason');
});

test('a hotspot report ranks levers and names what dominates', async () => {
  const r = await api('POST', '/reports', { body: { type: 'hotspot', devices: fleet(100) }, token: key });
  const done = await finished(r.body.id);
  assert.equal(done.status, 'done', JSON.stringify(done));
  const levers = done.summary.levers;
  assert.equal(levers.length, 3);
  assert.ok(levers[0].saving_kg >= levers[1].saving_kg && levers[1].saving_kg >= levers[2].saving_kg);
  assert.ok(levers.every((l) => l.saving_kg > 0));
  const { text } = await pdfText(r.body.id);
  assert.match(text, /What dominates, and why/);
  assert.match(text, /Levers, ranked by effect/);
  assert.ok(text.includes(`${Math.round(levers[0].saving_kg)} kg CO2e`), `top lever ${levers[0].saving_kg} in the PDF`);
  assert.match(text, new RegExp(`${Math.round(done.summary.dominant_stage.share * 100)}% of the fleet's footprint is ${done.summary.dominant_stage.stage}`));
});

test('a 10,000-device report is generated through the queue', async () => {
  const r = await api('POST', '/reports', { body: { type: 'sustainability', devices: fleet(10000) }, token: key });
  assert.equal(r.status, 202, r.text.slice(0, 300));
  const done = await finished(r.body.id);
  assert.equal(done.status, 'done', JSON.stringify(done).slice(0, 300));
  assert.equal(done.summary.devices, 10000);
  const { pages, bytes } = await pdfText(r.body.id);
  console.log(`sustainability report, 10,000 devices: ${bytes} bytes, ${pages} pages, ${JSON.stringify(done.summary.timing_ms)} ms`);
  assert.ok(pages > 100);
});

test('bad requests, limits, other organisations and the sandbox', async () => {
  const p = assertProblem(await api('POST', '/reports', { body: { type: 'weekly', devices: [], colour: 1 }, token: key }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['colour', 'devices', 'type']);
  assertProblem(await api('POST', '/reports', { body: { type: 'hotspot', devices: fleet(10001) }, token: key }), 422);
  const empty = await api('POST', '/reports', { body: { type: 'hotspot', source: 'assets' }, token: key });
  assert.equal(empty.status, 202);
  const failed = await finished(empty.body.id);
  assert.equal(failed.status, 'failed');
  assert.match(failed.reason, /empty/);
  const mine = await api('POST', '/reports', { body: { type: 'hotspot', devices: fleet(3) }, token: key });
  const other = (await createKey('pro')).key;
  assertProblem(await api('GET', `/reports/${mine.body.id}`, { token: other }), 404);
  assertProblem(await api('POST', '/reports', { body: { type: 'hotspot', devices: fleet(3) } , token: null }), 401, 'api_key_required');
  const sb = (await createKey('pro', { mode: 'test' })).key;
  const s = assertProblem(await api('POST', '/reports', { body: { type: 'hotspot', devices: fleet(3) }, token: sb }), 400, 'sandbox_not_supported');
  assert.equal(s._sandbox, true);
});

test('reports from stored assets use the organisation\'s certified devices', async () => {
  const org = await createKey('pro', { org: `Assets Org ${Date.now()}` });
  for (const id of ['dell--latitude-5420', catalogue[5].id]) {
    const c = await api('POST', '/certificates', { body: { footprint: { product: { id } } }, token: org.key });
    assert.equal(c.status, 201, c.text);
  }
  const r = await api('POST', '/reports', { body: { type: 'sustainability', source: 'assets' }, token: org.key });
  const done = await eventually(async () => {
    const s = await api('GET', `/reports/${r.body.id}`, { token: org.key });
    return ['done', 'failed'].includes(s.body.status) ? s.body : null;
  }, { ms: 60000, what: 'assets report' });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.summary.devices, 2);
});
