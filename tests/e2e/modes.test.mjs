// Modes, as Stripe keeps them: a test key of an organisation never reads, downloads, deletes
// or feeds OData from its live objects (the same 404 as for a missing one), and a live key
// never sees test objects. Enforced in the storage layer's SQL, checked here end to end.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createKey, d1, eventually, BASE } from './harness.mjs';

let live;
let sandbox;
const ids = {};

before(async () => {
  live = await createKey('enterprise', { org: `Modes Org ${Date.now()}` });
  sandbox = await createKey('enterprise', { org: live.org, mode: 'test' });
  assert.equal(sandbox.org_id, live.org_id, 'one organisation, two modes');
  const cert = await api('POST', '/certificates', { body: { footprint: { category: 'laptop' } }, token: live.key });
  assert.equal(cert.status, 201, cert.text);
  ids.cert = cert.body.id;
  const rep = await api('POST', '/reports', { body: { type: 'hotspot', devices: [{ category: 'laptop' }] }, token: live.key });
  ids.report = rep.body.id;
  const exp = await api('POST', '/exports', { body: {}, token: live.key });
  ids.export = exp.body.id;
  for (const [path, id] of [['reports', ids.report], ['exports', ids.export]]) {
    await eventually(async () => (await api('GET', `/${path}/${id}`, { token: live.key })).body.status === 'done', { ms: 30000, what: path });
  }
  ids.pull = `bsync_modes${Date.now()}`;
  await d1(`INSERT INTO integration_jobs (id, org_id, key_id, kind, params, status, created_at, mode)
    VALUES ('${ids.pull}', '${live.org_id}', '${live.id}', 'blancco_pull', '{}', 'done', '2026-11-29T00:00:00.000Z', 'live')`);
});

test('a test key gets 404 on every live object of its own organisation', async () => {
  const t = { token: sandbox.key };
  for (const path of [`/certificates/${ids.cert}`, `/certificates/${ids.cert}?format=pdf`, `/reports/${ids.report}`,
    `/reports/${ids.report}?format=pdf`, `/exports/${ids.export}`, `/exports/${ids.export}?download=1`,
    `/integrations/blancco/sync/${ids.pull}`]) {
    const p = assertProblem(await api('GET', path, t), 404, 'not_found');
    assert.equal(p._sandbox, true);
  }
  assertProblem(await api('DELETE', `/exports/${ids.export}`, t), 404, 'not_found');
  assertProblem(await api('DELETE', `/certificates/${ids.cert}`, t), 404, 'not_found');
  const feed = await fetch(`${BASE}/api/v1/odata/Certificates`, { headers: { Authorization: `Bearer ${sandbox.key}` } });
  assert.equal(feed.status, 404);
  // Nothing was touched: the live key still has it all.
  assert.equal((await api('GET', `/exports/${ids.export}?download=1`, { token: live.key })).status, 200);
  const c = await api('GET', `/certificates/${ids.cert}`, { token: live.key });
  assert.equal(c.body.revoked_at, null);
  const [row] = await d1(`SELECT status FROM exports WHERE id = '${ids.export}'`);
  assert.equal(row.status, 'done');
});

test('a live key gets 404 on test objects', async () => {
  const rid = `rep_modes${Date.now()}`;
  const eid = `exp_modes${Date.now()}`;
  await d1(`INSERT INTO reports (id, org_id, key_id, type, title, source, status, created_at, request_key, mode)
    VALUES ('${rid}', '${live.org_id}', '${sandbox.id}', 'hotspot', 't', 'devices', 'done', '2026-11-29T00:00:00.000Z', 'x', 'test')`);
  await d1(`INSERT INTO exports (id, org_id, key_id, status, created_at, expires_at, r2_key, mode)
    VALUES ('${eid}', '${live.org_id}', '${sandbox.id}', 'done', '2026-11-29T00:00:00.000Z', '2999-01-01T00:00:00.000Z', 'x', 'test')`);
  assertProblem(await api('GET', `/reports/${rid}`, { token: live.key }), 404, 'not_found');
  assertProblem(await api('GET', `/exports/${eid}`, { token: live.key }), 404, 'not_found');
  assertProblem(await api('DELETE', `/exports/${eid}`, { token: live.key }), 404, 'not_found');
  const [row] = await d1(`SELECT status FROM exports WHERE id = '${eid}'`);
  assert.equal(row.status, 'done', 'the live key could not delete it');
});

test('an Idempotency-Key never replays across modes', async () => {
  const key = `modes-${Date.now()}`;
  const body = { footprint: { category: 'monitor' } };
  const first = await api('POST', '/certificates', { body, token: live.key, headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201);
  const other = await api('POST', '/certificates', { body, token: sandbox.key, headers: { 'Idempotency-Key': key } });
  assert.equal(other.status, 201);
  assert.equal(other.headers.get('idempotent-replayed'), null, 'the test key does not get the live response');
  assert.equal(other.body._sandbox, true);
  assert.notEqual(other.body.id, first.body.id);
});
