// Trust, round 2, through the real worker: a plan belongs to the organisation (its keys share
// one budget per mode, and their number is capped), a rolled key loses its powers over keys,
// and caps hold under bursts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createKey, freshMinute } from './harness.mjs';

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
  assert.equal(last.headers.get('x-ratelimit-plan'), 'free');
  assert.equal(last.headers.get('x-ratelimit-limit'), '5');
  assert.equal(last.headers.get('x-ratelimit-remaining'), '0');
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
  // Two concurrent rolls of the successor make one new key, not two.
  const race = await Promise.all([1, 2].map(() => api('POST', `/keys/${successor.id}/roll`, { body: { expires_in_s: 60 }, token: successor.key })));
  assert.deepEqual(race.map((r) => r.status).sort(), [201, 409]);
});

test('20 concurrent exports of one Pro organisation get at most its cap of 202s', async () => {
  const org = await createKey('pro', { org: `Export Burst Org ${Date.now()}` });
  await freshMinute(30);
  const all = await Promise.all(Array.from({ length: 20 }, () => api('POST', '/exports', { body: {}, token: org.key })));
  const accepted = all.filter((r) => r.status === 202).length;
  assert.ok(accepted >= 1 && accepted <= 2, `${accepted} accepted (cap 2)`);
  for (const r of all.filter((r) => r.status !== 202)) assertProblem(r, 429);
});
