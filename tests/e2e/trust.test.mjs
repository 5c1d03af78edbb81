// Trust, round 2, through the real worker: a plan belongs to the organisation (its keys share
// one budget per mode, and their number is capped), a rolled key loses its powers over keys,
// and caps hold under bursts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createKey, freshMinute, ADMIN_TOKEN, BASE } from './harness.mjs';

const laptop = { category: 'laptop' };

test('four keys of one Free organisation share its 5 a minute; the sixth call is 429 with the organisation\'s headers', async () => {
  const admin = await createKey('free', { org: `Free Org ${Date.now()}` });
  const keys = [admin.key];
  for (let i = 0; i < 3; i++) {
    const r = await api('POST', '/keys', { body: { name: `k${i}` }, token: admin.key });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.plan, 'free');
    keys.push(r.body.key);
  }
  // Creating and listing keys is not metered against the plan.
  const listed = await api('GET', '/keys', { token: admin.key });
  assert.equal(listed.body.data.length, 4);
  await freshMinute(30);
  const statuses = [];
  let last;
  for (let i = 0; i < 6; i++) {
    last = await api('POST', '/footprint', { body: laptop, token: keys[i % 4] });
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  const p = assertProblem(last, 429, 'rate_limited');
  assert.equal(p.plan, 'free');
  assert.equal(p.limit, 'minute');
  assert.equal(last.headers.get('x-ratelimit-plan'), 'free');
  // The headers describe the organisation's budget (the day's, as everywhere): 5 of its 25
  // are spent, whichever of its keys spent them.
  assert.equal(last.headers.get('x-ratelimit-limit'), '25');
  assert.equal(last.headers.get('x-ratelimit-remaining'), '20');
  // Test keys keep their own budget: the live quota is unaffected by the sandbox, and back.
  const sandbox = await api('POST', '/keys', { body: { mode: 'test' }, token: admin.key });
  assert.equal((await api('POST', '/footprint', { body: laptop, token: sandbox.body.key })).status, 200);
  // /usage of any key shows the organisation's figures.
  const u = await api('GET', '/usage', { token: keys[3] });
  assert.equal(u.body.used.this_minute >= 5, true, JSON.stringify(u.body.used));
  assert.match(u.body.subject, /^org:/);
});

test('an organisation holds at most its plan\'s active keys: past it POST /keys is 409 naming the limit', async () => {
  const admin = await createKey('free', { org: `Key Cap Org ${Date.now()}` });
  const made = [];
  for (let i = 0; i < 19; i++) {
    const r = await api('POST', '/keys', { body: { mode: i % 2 ? 'test' : 'live' }, token: admin.key });
    assert.equal(r.status, 201, `key ${i + 2}: ${r.text}`);
    made.push(r.body.id);
  }
  const p = assertProblem(await api('POST', '/keys', { body: {}, token: admin.key }), 409, 'key_limit_reached');
  assert.equal(p.max_active_keys, 20);
  assert.equal(p.limit, 'active_keys');
  // A revoked key frees its place.
  assert.equal((await api('DELETE', `/keys/${made[0]}`, { token: admin.key })).status, 200);
  assert.equal((await api('POST', '/keys', { body: {}, token: admin.key })).status, 201);
  // A burst past the cap gets no more than the places left.
  const burst = await Promise.all(Array.from({ length: 5 }, () => api('POST', '/keys', { body: {}, token: admin.key })));
  assert.deepEqual([...new Set(burst.map((r) => r.status))], [409]);
});

test('a rolled key in its grace period calls the API but manages no keys; the new key keeps working', async () => {
  const old = await createKey('pro', { org: `Roll Org ${Date.now()}` });
  const rolled = await api('POST', `/keys/${old.id}/roll`, { body: { expires_in_s: 3600 }, token: old.key });
  assert.equal(rolled.status, 201, rolled.text);
  const successor = rolled.body;
  // Data calls still work during the grace period …
  assert.equal((await api('POST', '/footprint', { body: laptop, token: old.key })).status, 200);
  // … but not key management: no listing, no rolling the successor, no revoking it.
  assertProblem(await api('GET', '/keys', { token: old.key }), 403, 'key_in_grace_period');
  assertProblem(await api('POST', `/keys/${successor.id}/roll`, { body: {}, token: old.key }), 403, 'key_in_grace_period');
  assertProblem(await api('DELETE', `/keys/${successor.id}`, { token: old.key }), 403, 'key_in_grace_period');
  assertProblem(await api('POST', '/keys', { body: {}, token: old.key }), 403, 'key_in_grace_period');
  // The successor keeps working and is the one in charge.
  assert.equal((await api('POST', '/footprint', { body: laptop, token: successor.key })).status, 200);
  assert.equal((await api('GET', '/keys', { token: successor.key })).status, 200);
  // Rolling or revoking the already-rolled key is 409.
  assertProblem(await api('POST', `/keys/${old.id}/roll`, { body: {}, token: successor.key }), 409, 'key_not_active');
  assertProblem(await api('DELETE', `/keys/${old.id}`, { token: successor.key }), 409, 'key_not_active');
  // Two concurrent rolls of the successor (by another admin key) make one new key, not two.
  const other = await api('POST', '/keys', { body: { role: 'admin' }, token: successor.key });
  assert.equal(other.status, 201, other.text);
  const count = async () => (await api('GET', '/keys', { token: other.body.key })).body.data.length;
  const before = await count();
  const race = await Promise.all([1, 2].map(() => api('POST', `/keys/${successor.id}/roll`, { body: { expires_in_s: 60 }, token: other.body.key })));
  assert.deepEqual(race.map((r) => r.status).sort(), [201, 409]);
  assert.equal(await count(), before + 1, 'one successor, not two');
});

test('20 concurrent exports of one Pro organisation get at most its cap of 202s', async () => {
  const org = await createKey('pro', { org: `Export Burst Org ${Date.now()}` });
  await freshMinute(30);
  const all = await Promise.all(Array.from({ length: 20 }, () => api('POST', '/exports', { body: {}, token: org.key })));
  const accepted = all.filter((r) => r.status === 202).length;
  assert.ok(accepted >= 1 && accepted <= 2, `${accepted} accepted (cap 2)`);
  for (const r of all.filter((r) => r.status !== 202)) assertProblem(r, 429);
});

test('Blancco credentials: hostile URLs are 422 by parsing, and only admin keys set them', async () => {
  const admin = await createKey('business', { org: `Blancco Trust Org ${Date.now()}` });
  // (Private and loopback addresses are refused in production; this server is a local one,
  // where they are allowed: the native tests of blancco::pull cover production.)
  for (const url of ['http://localhost@example.com', 'http://localhost.evil.example', 'http://127.0.0.1.nip.io',
    'https://user:pw@cloud.example', 'ftp://cloud.example']) {
    const p = assertProblem(await api('PUT', '/integrations/blancco', { body: { api_url: url, api_key: 'abcd1234efgh' }, token: admin.key }), 422);
    assert.equal(p.errors[0].field, 'api_url', url);
  }
  const standard = await api('POST', '/keys', { body: { role: 'standard' }, token: admin.key });
  assertProblem(await api('PUT', '/integrations/blancco', { body: { api_url: 'https://cloud.example/v1', api_key: 'abcd1234efgh' }, token: standard.body.key }), 403, 'admin_role_required');
  assertProblem(await api('DELETE', '/integrations/blancco', { token: standard.body.key }), 403, 'admin_role_required');
  // A standard key still reads whether they are set.
  assert.equal((await api('GET', '/integrations/blancco', { token: standard.body.key })).status, 200);
  assert.equal((await api('PUT', '/integrations/blancco', { body: { api_url: 'https://cloud.example/v1', api_key: 'abcd1234efgh' }, token: admin.key })).status, 200);
});

test('a test key\'s actions go to the test chain, never the live AuditLog', async () => {
  const ent = await createKey('enterprise', { org: `Audit Modes Org ${Date.now()}` });
  const sandbox = await api('POST', '/keys', { body: { mode: 'test', role: 'admin' }, token: ent.key });
  assert.equal(sandbox.status, 201);
  const nested = await api('POST', '/keys', { body: {}, token: sandbox.body.key });
  assert.equal(nested.status, 201);
  const live = await api('POST', '/keys', { body: {}, token: ent.key });
  const res = await fetch(`${BASE}/api/v1/odata/AuditLog?$filter=Action eq 'key.created'`, { headers: { Authorization: `Bearer ${ent.key}` } });
  assert.equal(res.status, 200);
  const targets = (await res.json()).value.map((e) => e.Target);
  assert.ok(targets.includes(live.body.id), 'the live key is in the live log');
  assert.ok(!targets.includes(sandbox.body.id) && !targets.includes(nested.body.id), 'no test key in the live log');
  // Both chains verify.
  for (const chain of [ent.org_id, `${ent.org_id}:test`]) {
    const v = await api('GET', `/admin/orgs/${encodeURIComponent(chain)}/audit/verify`, { token: ADMIN_TOKEN });
    assert.equal(v.body.valid, true, chain);
    assert.ok(v.body.entries >= (chain.endsWith(':test') ? 2 : 2), `${chain}: ${v.body.entries}`);
  }
});
