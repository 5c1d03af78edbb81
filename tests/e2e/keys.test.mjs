// API keys, plans and rate limits (Durable Object), sandbox, usage, the audit log and
// idempotency, against the real worker and its local D1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { api, assertProblem, createKey, d1, eventually, freshMinute, ADMIN_TOKEN } from './harness.mjs';

const laptop = { category: 'laptop' };

test('keys are created once, stored only as a hash, and refused when unknown or malformed', async () => {
  const k = await createKey('pro', { org: 'Acme e2e' });
  assert.match(k.key, /^ct_live_[0-9a-f]{40}$/);
  assert.match(k.id, /^key_[0-9a-f]{16}$/);
  assert.equal(k.prefix, k.key.slice(0, 12));
  const rows = await d1(`SELECT * FROM api_keys WHERE id = '${k.id}'`);
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(k.key), 'the key itself is not stored');
  assert.match(rows[0].key_hash, /^[0-9a-f]{64}$/);
  const ok = await api('POST', '/footprint', { body: laptop, token: k.key });
  assert.equal(ok.status, 200);
  let p = assertProblem(await api('POST', '/footprint', { body: laptop, token: `ct_live_${'0'.repeat(40)}` }), 401, 'invalid_api_key');
  assert.match(p.detail, /Unknown/);
  const r = await api('POST', '/footprint', { body: laptop, token: 'sk_live_nope' });
  assertProblem(r, 401, 'malformed_api_key');
  assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  assertProblem(await api('POST', '/admin/keys', { body: { org: 'x', plan: 'pro' }, token: k.key }), 401, 'admin_token_required');
  p = assertProblem(await api('POST', '/admin/keys', { body: { org: '', plan: 'gold', mode: 'dark' }, token: ADMIN_TOKEN }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['mode', 'org', 'plan']);
});

test('every response carries the rate-limit headers', async () => {
  const k = await createKey('pro');
  const a = await api('POST', '/footprint', { body: laptop, token: k.key });
  assert.equal(a.headers.get('x-ratelimit-limit'), '1000');
  assert.equal(a.headers.get('x-ratelimit-plan'), 'pro');
  const before = Number(a.headers.get('x-ratelimit-remaining'));
  assert.ok(before <= 999);
  const b = await api('POST', '/footprint', { body: laptop, token: k.key });
  assert.equal(Number(b.headers.get('x-ratelimit-remaining')), before - 1);
  assert.match(b.headers.get('ratelimit-policy'), /"minute";q=30;w=60, "day";q=1000;w=86400/);
  const bad = await api('POST', '/footprint', { body: { category: 'toaster' }, token: k.key });
  assert.equal(bad.status, 422);
  assert.equal(bad.headers.get('x-ratelimit-plan'), 'pro', 'errors carry them too');
  const pub = await api('GET', '/reference/categories');
  assert.equal(pub.headers.get('x-ratelimit-limit'), 'unmetered');
  assert.equal(pub.headers.get('x-carbontrace-mode'), 'live');
});

test('M concurrent requests against a per-minute limit of N: exactly N pass, the rest get 429', async () => {
  const k = await createKey('pro'); // 30 per minute
  await freshMinute();
  const all = await Promise.all(Array.from({ length: 45 }, () => api('POST', '/footprint', { body: laptop, token: k.key })));
  const passed = all.filter((r) => r.status === 200).length;
  const limited = all.filter((r) => r.status === 429);
  assert.equal(passed, 30);
  assert.equal(limited.length, 15);
  for (const r of limited) {
    const p = assertProblem(r, 429, 'rate_limited');
    assert.equal(p.limit, 'minute');
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(r.headers.get('x-ratelimit-plan'), 'pro');
  }
  const u = await api('GET', '/usage', { token: k.key });
  assert.equal(u.body.used.this_minute, 30);
  assert.equal(u.body.remaining.this_minute, 0);
});

test('large leases are renewed ahead: every request counted once, the limit still exact', async () => {
  // Enterprise: 500 a minute, leases of 50 renewed when a quarter is left (after a response),
  // so most requests never wait on the rate-limit Durable Object.
  const k = await createKey('enterprise');
  await freshMinute(30);
  const wave = () => Promise.all(Array.from({ length: 16 }, () => api('POST', '/footprint', { body: laptop, token: k.key })));
  const seen = [];
  for (let i = 0; i < 10; i++) seen.push(...await wave()); // 160 requests, 16 at a time
  assert.deepEqual([...new Set(seen.map((r) => r.status))], [200]);
  const remaining = seen.map((r) => Number(r.headers.get('x-ratelimit-remaining')));
  assert.ok(Math.min(...remaining) >= 500 - 160, `remaining went down to ${Math.min(...remaining)}`);
  const u = await api('GET', '/usage', { token: k.key });
  assert.equal(u.body.used.this_minute, 160, 'leased but unspent requests are not shown as used');
  // The key's last use is recorded (once a minute per isolate, not per lease).
  const [row] = await d1(`SELECT last_used_at FROM api_keys WHERE id = '${k.id}'`);
  assert.ok(row.last_used_at, 'last_used_at set');
  // Past the limit nothing leaks: 500 − 160 more pass, then 429s.
  const rest = [];
  for (let i = 0; i < 23; i++) rest.push(...await wave()); // 368 more
  const ok = rest.filter((r) => r.status === 200).length;
  assert.equal(ok, 500 - 160);
  assert.ok(rest.slice(-16).every((r) => r.status === 429));
});

test('anonymous calls are the free tier, counted per client IP', async () => {
  await freshMinute();
  const ip = { 'CF-Connecting-IP': '203.0.113.7' };
  const u0 = await api('GET', '/usage', { token: null, headers: ip });
  assert.equal(u0.status, 200);
  assert.equal(u0.body.plan, 'free');
  assert.equal(u0.body.limits.per_minute, 5);
  const left = u0.body.remaining.this_minute;
  const rs = [];
  for (let i = 0; i < left + 1; i++) rs.push(await api('POST', '/footprint', { body: laptop, token: null, headers: ip }));
  assert.deepEqual(rs.map((r) => r.status), [...Array(left).fill(200), 429]);
  assert.equal(rs[0].headers.get('x-ratelimit-plan'), 'free');
  assert.equal(rs[0].headers.get('x-ratelimit-limit'), '25');
});

test('a batch is one request per minute and its devices against the day, refused whole past it', async () => {
  const k = await createKey('free'); // 25 per day, 5 per minute, 10 devices per batch
  const ten = Array.from({ length: 10 }, () => laptop);
  await freshMinute();
  const a = await api('POST', '/footprint/batch', { body: { devices: ten }, token: k.key });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.headers.get('x-ratelimit-remaining'), '15');
  const b = await api('POST', '/footprint/batch', { body: { devices: ten }, token: k.key });
  assert.equal(b.headers.get('x-ratelimit-remaining'), '5');
  const c = await api('POST', '/footprint/batch', { body: { devices: ten }, token: k.key });
  const p = assertProblem(c, 429, 'rate_limited');
  assert.equal(p.limit, 'day');
  assert.equal(p.remaining, 4, 'the refused batch counted one request against the day');
  assert.ok(Number(c.headers.get('retry-after')) > 0);
});

test('sandbox keys answer from fixtures, flagged, without touching the live quota', async () => {
  const live = await createKey('pro', { org: 'Sandbox Org e2e' });
  const testKey = await createKey('pro', { org: 'Sandbox Org e2e', mode: 'test' });
  assert.match(testKey.key, /^ct_test_/);
  assert.equal(testKey.org_id, live.org_id);
  const before = (await api('GET', '/usage', { token: live.key })).body.used.today;
  const a = await api('POST', '/footprint', { body: { category: 'server', use: { country: 'FR' } }, token: testKey.key });
  const b = await api('POST', '/footprint', { body: laptop, token: testKey.key });
  assert.equal(a.status, 200);
  assert.equal(a.headers.get('x-carbontrace-mode'), 'sandbox');
  assert.equal(a.body._sandbox, true);
  assert.equal(a.body.total_kg_co2e, 350.42);
  assert.equal(a.body.product.brand, 'SandboxCorp');
  assert.deepEqual(a.body, b.body, 'deterministic');
  const batch = await api('POST', '/footprint/batch', { body: { devices: [laptop, { category: 'toaster' }] }, token: testKey.key });
  assert.equal(batch.body._sandbox, true);
  assert.equal(batch.body.results[0]._sandbox, true);
  assert.equal(batch.body.results[1].error.errors[0].field, 'devices[1].category');
  const s = await api('POST', '/savings', { body: { device: laptop, scenario: 'reuse' }, token: testKey.key });
  assert.equal(s.body._sandbox, true);
  assert.equal(s.body.scenario, 'reuse');
  const bad = assertProblem(await api('POST', '/footprint', { body: { category: 'toaster' }, token: testKey.key }), 422);
  assert.equal(bad._sandbox, true);
  const after = (await api('GET', '/usage', { token: live.key })).body.used.today;
  assert.equal(after, before, 'live quota untouched');
  const su = await api('GET', '/usage', { token: testKey.key });
  assert.equal(su.body.mode, 'test');
  assert.equal(su.body._sandbox, true);
  assert.ok(su.body.used.today >= 4);
});

test('usage reports plan, limits, use and resets', async () => {
  const k = await createKey('business');
  await api('POST', '/footprint', { body: laptop, token: k.key });
  const u = await api('GET', '/usage', { token: k.key });
  assert.equal(u.status, 200);
  assert.equal(u.body.plan, 'business');
  assert.deepEqual(u.body.limits, { per_minute: 100, per_day: 10000, batch_devices: 500 });
  assert.ok(u.body.used.today >= 1);
  assert.equal(u.body.remaining.today, 10000 - u.body.used.today);
  assert.ok(u.body.resets.minute_in_s <= 60);
  assert.match(u.body.resets.day_at, /T00:00:00\.000Z$/);
  const again = await api('GET', '/usage', { token: k.key });
  assert.equal(again.body.used.today, u.body.used.today, 'reading usage counts nothing');
});

test('a revoked key is refused within the stated bound (5 s)', async () => {
  const k = await createKey('pro');
  assert.equal((await api('POST', '/footprint', { body: laptop, token: k.key })).status, 200);
  const t0 = Date.now();
  const rev = await api('DELETE', `/admin/keys/${k.id}`, { token: ADMIN_TOKEN });
  assert.equal(rev.status, 200, rev.text);
  assert.equal(rev.body.effective_within_s, 5);
  await eventually(async () => (await api('POST', '/footprint', { body: laptop, token: k.key })).status === 401,
    { ms: 6000, what: 'revocation' });
  assert.ok(Date.now() - t0 <= 6000);
  assertProblem(await api('POST', '/footprint', { body: laptop, token: k.key }), 401, 'revoked_api_key');
  assertProblem(await api('DELETE', '/admin/keys/key_doesnotexist', { token: ADMIN_TOKEN }), 404);
});

test('the audit log is hash-linked and a tampered row is detected', async () => {
  const k = await createKey('pro', { org: `Audit Org ${Date.now()}` });
  const k2 = await createKey('pro', { org: k.org });
  await api('DELETE', `/admin/keys/${k2.id}`, { token: ADMIN_TOKEN });
  const v = await eventually(async () => {
    const r = await api('GET', `/admin/orgs/${k.org_id}/audit/verify`, { token: ADMIN_TOKEN });
    return r.body.entries >= 3 ? r.body : null;
  }, { what: 'audit entries to land' });
  assert.equal(v.valid, true);
  const rows = await d1(`SELECT seq, action, prev_hash, hash FROM audit_log WHERE org_id = '${k.org_id}' ORDER BY seq`);
  assert.deepEqual(rows.map((r) => r.action), ['key.created', 'key.created', 'key.revoked']);
  assert.equal(rows[1].prev_hash, rows[0].hash);
  await d1(`UPDATE audit_log SET details = '{"plan":"enterprise"}' WHERE org_id = '${k.org_id}' AND seq = 2`);
  const t = await api('GET', `/admin/orgs/${k.org_id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(t.body.valid, false);
  assert.equal(t.body.break.seq, 2);
  assert.match(t.body.break.reason, /altered/);
  await d1(`DELETE FROM audit_log WHERE org_id = '${k.org_id}' AND seq = 2`);
  const m = await api('GET', `/admin/orgs/${k.org_id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(m.body.break.seq, 2);
  assert.match(m.body.break.reason, /missing/);
});

test('Idempotency-Key: a repeat replays the first result, another body is a 422', async () => {
  const idem = `idem-${Date.now()}`;
  const body = { org: `Idem Org ${idem}`, plan: 'pro' };
  const first = await api('POST', '/admin/keys', { body, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': idem } });
  assert.equal(first.status, 201);
  const again = await api('POST', '/admin/keys', { body, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': idem } });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.body.id, first.body.id);
  assert.equal(again.body.key, null, 'the key is never stored, so a replay cannot show it');
  const keys = await d1(`SELECT id FROM api_keys WHERE org_id = '${first.body.org_id}'`);
  assert.equal(keys.length, 1, 'no second key');
  const other = await api('POST', '/admin/keys', { body: { ...body, plan: 'business' }, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': idem } });
  assertProblem(other, 422, 'idempotency_key_reused');
  // A refused (invalid) request does not burn its key.
  const k2 = `idem2-${Date.now()}`;
  assertProblem(await api('POST', '/admin/keys', { body: { org: 'x', plan: 'gold' }, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': k2 } }), 422);
  const fixed = await api('POST', '/admin/keys', { body: { org: `Idem Fixed ${k2}`, plan: 'pro' }, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': k2 } });
  assert.equal(fixed.status, 201, fixed.text);
});

test('Idempotency-Key: a key whose request never finished is free again after the lock time', async () => {
  const idem = `stuck-${Date.now()}`;
  const body = { org: `Idem Stuck ${idem}`, plan: 'pro' };
  // A reservation whose worker died: no response, taken 2 minutes ago (the lock is 60 s).
  await d1(`INSERT INTO idempotency (scope, idem_key, method_path, body_hash, created_at)
    VALUES ('admin', '${idem}', 'POST /api/v1/admin/keys', 'x', '${new Date(Date.now() - 120000).toISOString()}')`);
  const r = await api('POST', '/admin/keys', { body, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': idem } });
  assert.equal(r.status, 201, r.text);
  const replay = await api('POST', '/admin/keys', { body, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': idem } });
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(replay.body.id, r.body.id);
  // A fresh reservation still blocks, saying when to retry.
  const busy = `busy-${Date.now()}`;
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  await d1(`INSERT INTO idempotency (scope, idem_key, method_path, body_hash, created_at)
    VALUES ('admin', '${busy}', 'POST /api/v1/admin/keys', '${hash}', '${new Date().toISOString()}')`);
  const p = assertProblem(await api('POST', '/admin/keys', { body, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': busy } }), 409, 'idempotency_in_progress');
  assert.match(p.detail, /60 s/);
  // A stored response older than 24 hours is forgotten: the key runs afresh.
  await d1(`UPDATE idempotency SET created_at = '2000-01-01T00:00:00.000Z' WHERE idem_key = '${idem}'`);
  const fresh = await api('POST', '/admin/keys', { body: { org: `Idem Fresh ${idem}`, plan: 'pro' }, token: ADMIN_TOKEN, headers: { 'Idempotency-Key': idem } });
  assert.equal(fresh.status, 201, fresh.text);
  assert.equal(fresh.headers.get('idempotent-replayed'), null);
  assert.notEqual(fresh.body.id, r.body.id);
});

test('the chain head is anchored in R2 by the cron; a rewrite of D1 that rehashes everything is still caught', async () => {
  const k = await createKey('pro', { org: `Anchor Org ${Date.now()}` });
  await createKey('pro', { org: k.org });
  assert.equal((await fetch(`${process.env.CT_BASE_URL}/__scheduled?cron=0+*+*+*+*`)).status, 200);
  const v = await eventually(async () => {
    const r = await api('GET', `/admin/orgs/${k.org_id}/audit/verify`, { token: ADMIN_TOKEN });
    return r.body.anchor ? r.body : null;
  }, { what: 'the anchor' });
  assert.equal(v.valid, true);
  assert.equal(v.anchor.seq, 2);
  assert.equal(v.anchor.hash, v.head);
  // Forge entry 1 and rehash the whole chain, as someone with write access to D1 alone could.
  const rows = await d1(`SELECT org_id, seq, at, actor, action, target, details FROM audit_log WHERE org_id = '${k.org_id}' ORDER BY seq`);
  let prev = '0'.repeat(64);
  for (const r of rows) {
    if (r.seq === 1) r.details = JSON.stringify({ mode: 'live', plan: 'enterprise', prefix: 'forged' });
    const canon = JSON.stringify(Object.fromEntries(Object.entries(
      { org_id: r.org_id, seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, details: r.details }).sort()));
    const hash = createHash('sha256').update(`${prev}\n${canon}`).digest('hex');
    await d1(`UPDATE audit_log SET details = '${r.details.replaceAll("'", "''")}', prev_hash = '${prev}', hash = '${hash}' WHERE org_id = '${k.org_id}' AND seq = ${r.seq}`);
    prev = hash;
  }
  const t = await api('GET', `/admin/orgs/${k.org_id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(t.body.valid, false, JSON.stringify(t.body));
  assert.equal(t.body.break.seq, 2);
  assert.match(t.body.break.reason, /does not match the anchor/);
  // The next cron run keeps the evidence: the anchor is not moved onto the forged chain.
  await fetch(`${process.env.CT_BASE_URL}/__scheduled?cron=0+*+*+*+*`);
  const again = await api('GET', `/admin/orgs/${k.org_id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(again.body.valid, false);
});
