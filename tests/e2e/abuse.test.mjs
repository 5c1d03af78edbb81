// Abuse that costs us without a key: the public verification and failed authentications are
// metered per client, an IPv6 client cannot escape its limit by rotating within its /64, and
// no header a client sets stands in for its address. Each test uses addresses of its own
// (documentation ranges), so the buckets are its alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createKey, d1, freshMinute, ADMIN_TOKEN } from './harness.mjs';

test('public verification is metered per client: 60 a minute, then 429 with the headers', async () => {
  const k = await createKey('internal', { org: `Verify Org ${Date.now()}` });
  const cert = await api('POST', '/certificates', { body: { footprint: { category: 'laptop' } }, token: k.key });
  await freshMinute(30);
  const ip = { 'CF-Connecting-IP': '198.51.100.60' };
  const statuses = [];
  let last;
  for (let i = 0; i < 61; i++) {
    last = await api('GET', `/certificates/${cert.body.id}/verify`, { token: null, headers: ip });
    statuses.push(last.status);
  }
  assert.deepEqual([...new Set(statuses.slice(0, 60))], [200]);
  // The PDF is hashed once; later verifications read the verdict cached under its etag.
  const first = await api('GET', `/certificates/${cert.body.id}/verify`, { token: null, headers: { 'CF-Connecting-IP': '198.51.100.62' } });
  assert.equal(first.headers.get('x-carbontrace-verify-cache'), 'hit');
  assert.equal(first.body.checks.pdf, true);
  const p = assertProblem(last, 429, 'rate_limited');
  assert.equal(p.plan, 'public_verify');
  assert.ok(Number(last.headers.get('retry-after')) >= 1);
  assert.equal(last.headers.get('x-ratelimit-plan'), 'public_verify');
  // Another client is not affected.
  const other = await api('GET', `/certificates/${cert.body.id}/verify`, { token: null, headers: { 'CF-Connecting-IP': '198.51.100.61' } });
  assert.equal(other.status, 200);
  assert.equal(other.body.status, 'valid');
});

test('failed authentications: 401 ten times a minute, then 429; the owner behind the same address is never locked out', async () => {
  await freshMinute(30);
  const ip = { 'CF-Connecting-IP': '198.51.100.10' };
  const guess = () => `ct_live_${[...Array(40)].map(() => Math.floor(Math.random() * 16).toString(16)).join('')}`;
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await api('POST', '/footprint', { body: { category: 'laptop' }, token: guess(), headers: ip })).status);
  assert.deepEqual(statuses, Array(10).fill(401));
  const refused = await api('POST', '/footprint', { body: { category: 'laptop' }, token: guess(), headers: ip });
  assertProblem(refused, 429, 'rate_limited');
  assert.ok(refused.headers.get('retry-after'));
  const retry = Number(refused.headers.get('retry-after'));
  assert.ok(retry > 0 && retry <= 60, `a first block is a minute at most, not until midnight (${retry} s)`);
  // Further guesses, well-formed or not, and admin-token guesses on /health, stay refused.
  assertProblem(await api('POST', '/footprint', { body: { category: 'laptop' }, token: guess(), headers: ip }), 429);
  assertProblem(await api('GET', '/usage', { token: 'nonsense', headers: ip }), 429);
  assertProblem(await api('GET', '/health', { token: 'not-the-admin-token-at-all', headers: ip }), 429);
  // The owner behind the same NAT is not locked out: a valid key and the admin token pass.
  const k = await createKey('pro');
  const ok = await api('POST', '/footprint', { body: { category: 'laptop' }, token: k.key, headers: ip });
  assert.equal(ok.status, 200, ok.text);
  const admin = await api('GET', '/health', { token: ADMIN_TOKEN, headers: ip });
  assert.equal(admin.status, 200, admin.text);
  assert.ok(admin.body.checks, 'the admin token got the deep check');
  // A client sending its API key to /health is not guessing the admin token.
  const other = { 'CF-Connecting-IP': '198.51.100.12' };
  for (let i = 0; i < 12; i++) assert.equal((await api('GET', '/health', { token: k.key, headers: other })).status, 200);
});

test('admin-token guesses on /health count as failed authentications', async () => {
  await freshMinute(30);
  const ip = { 'CF-Connecting-IP': '198.51.100.13' };
  const statuses = [];
  for (let i = 0; i < 11; i++) statuses.push((await api('GET', '/health', { token: `guess-${i}-of-the-admin-token`, headers: ip })).status);
  assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
});

test('anonymous IPv6 clients are limited per /64; X-Real-IP is not trusted', async () => {
  await freshMinute(30);
  const statuses = [];
  // Free tier: 5 a minute. Six different addresses of one /64.
  for (let i = 1; i <= 6; i++) {
    statuses.push((await api('POST', '/footprint', { body: { category: 'laptop' }, token: null,
      headers: { 'CF-Connecting-IP': `2001:db8:77:1::${i.toString(16)}`, 'X-Real-IP': `192.0.2.${i}` } })).status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  const otherNet = await api('POST', '/footprint', { body: { category: 'laptop' }, token: null, headers: { 'CF-Connecting-IP': '2001:db8:77:2::1' } });
  assert.equal(otherNet.status, 200, 'another /64 has its own bucket');
});

test('work is counted where it is done: a report per device, an upload per report, a few open jobs', async () => {
  const free = await createKey('free'); // 25 a day, 5 a minute, 1 open job of a kind
  const big = await api('POST', '/reports', { body: { type: 'hotspot', devices: Array(1000).fill({ category: 'laptop' }) }, token: free.key });
  const p = assertProblem(big, 429, 'rate_limited');
  assert.ok(p.remaining <= 25, JSON.stringify(p));
  assert.match(p.detail, /one per device or report/);
  const [{ n }] = await d1(`SELECT COUNT(*) AS n FROM reports WHERE org_id = '${free.org_id}'`);
  assert.equal(n, 0, 'refused whole: nothing queued');
  // 30 Blancco reports in one upload are 30 requests of the day.
  const reports = Array.from({ length: 30 }, (_, i) => ({ blancco_data: { description: { document_id: `abuse-${i}` } } }));
  assertProblem(await api('POST', '/integrations/blancco/sync', { body: { reports }, token: free.key }), 429, 'rate_limited');
  // One open job of a kind on the free plan: a second is refused while the first runs.
  const pro = await createKey('pro'); // 2 open jobs
  for (let i = 0; i < 2; i++) {
    await d1(`INSERT INTO exports (id, org_id, key_id, status, created_at, expires_at, r2_key, lease_until, mode)
      VALUES ('exp_open${i}${Date.now()}', '${pro.org_id}', '${pro.id}', 'running', '2026-11-29T00:00:00.000Z', '2999-01-01T00:00:00.000Z', 'x', '2999-01-01T00:00:00.000Z', 'live')`);
  }
  const third = await api('POST', '/exports', { body: {}, token: pro.key });
  const q = assertProblem(third, 429, 'too_many_jobs');
  assert.equal(q.max_open_jobs, 2);
  assert.equal(third.headers.get('retry-after'), '30');
});
