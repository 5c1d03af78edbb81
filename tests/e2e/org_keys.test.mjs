// Self-service keys (/keys): an organisation's admin key creates, lists, rolls and revokes its
// own keys; standard keys get 403; other organisations' keys are 404; the sandbox stays in the
// sandbox; every change is audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createKey, d1, ADMIN_TOKEN } from './harness.mjs';

const laptop = { category: 'laptop' };

test('an admin key creates, lists and revokes its organisation\'s keys; the secret is shown once', async () => {
  const admin = await createKey('business'); // the operator's key: role admin
  assert.equal(admin.role, 'admin');
  const made = await api('POST', '/keys', { body: { role: 'standard', name: 'CI pipeline' }, token: admin.key });
  assert.equal(made.status, 201, made.text);
  assert.match(made.body.key, /^ct_live_[0-9a-f]{40}$/);
  assert.equal(made.body.plan, 'business', 'a new key is on the organisation\'s plan');
  assert.equal(made.body.org_id, admin.org_id);
  assert.deepEqual([made.body.role, made.body.mode, made.body.name], ['standard', 'live', 'CI pipeline']);
  const test1 = await api('POST', '/keys', { body: { mode: 'test' }, token: admin.key });
  assert.match(test1.body.key, /^ct_test_/);

  // The new key works, and a standard key cannot manage keys.
  assert.equal((await api('POST', '/footprint', { body: laptop, token: made.body.key })).status, 200);
  assertProblem(await api('GET', '/keys', { token: made.body.key }), 403, 'admin_role_required');
  assertProblem(await api('POST', '/keys', { body: {}, token: made.body.key }), 403, 'admin_role_required');
  assertProblem(await api('GET', '/keys', { token: null }), 401, 'api_key_required');

  const list = await api('GET', '/keys', { token: admin.key });
  assert.equal(list.status, 200);
  const ids = list.body.data.map((k) => k.id);
  for (const id of [admin.id, made.body.id, test1.body.id]) assert.ok(ids.includes(id), id);
  const row = list.body.data.find((k) => k.id === made.body.id);
  assert.ok(row.last_used_at, 'last use recorded');
  assert.equal(row.prefix, made.body.key.slice(0, 12));
  assert.ok(!JSON.stringify(list.body).includes(made.body.key), 'the secret is never listed');
  assert.ok(list.body.data.every((k) => !('key' in k) && !('key_hash' in k)));

  const del = await api('DELETE', `/keys/${made.body.id}`, { token: admin.key });
  assert.equal(del.status, 200, del.text);
  assert.ok(del.body.revoked_at);
  assertProblem(await api('POST', '/footprint', { body: laptop, token: made.body.key }), 401, 'revoked_api_key');
  assert.equal((await api('DELETE', `/keys/${made.body.id}`, { token: admin.key })).body.already_revoked, true);

  // Every change is in the organisation's audit log: live keys' in its live chain, the test
  // key's in its test chain only.
  const chain = async (id) => (await d1(`SELECT action, target FROM audit_log WHERE org_id = '${id}' ORDER BY seq`))
    .map((a) => `${a.action} ${a.target}`);
  const live = await chain(admin.org_id);
  for (const a of [`key.created ${made.body.id}`, `key.revoked ${made.body.id}`]) {
    assert.ok(live.includes(a), `${a} in ${live.join(', ')}`);
  }
  assert.ok(!live.includes(`key.created ${test1.body.id}`), 'no test key in the live chain');
  assert.deepEqual(await chain(`${admin.org_id}:test`), [`key.created ${test1.body.id}`]);
});

test('another organisation\'s keys are not found; the sandbox sees and makes test keys only', async () => {
  const a = await createKey('pro');
  const b = await createKey('pro');
  assertProblem(await api('DELETE', `/keys/${b.id}`, { token: a.key }), 404);
  assertProblem(await api('POST', `/keys/${b.id}/roll`, { body: {}, token: a.key }), 404);
  assert.ok(!(await api('GET', '/keys', { token: a.key })).body.data.some((k) => k.org_id !== a.org_id));
  assert.equal((await api('POST', '/footprint', { body: laptop, token: b.key })).status, 200, 'b untouched');

  const sandboxAdmin = await createKey('pro', { org: `org-${a.org_id}`, mode: 'test' });
  const p = assertProblem(await api('POST', '/keys', { body: { mode: 'live' }, token: sandboxAdmin.key }), 422);
  assert.equal(p.errors[0].field, 'mode');
  const live = await api('POST', '/keys', { body: { mode: 'live' }, token: (await createKey('pro', { org: `org-${a.org_id}` })).key });
  assert.equal(live.status, 201);
  const seen = (await api('GET', '/keys', { token: sandboxAdmin.key })).body.data;
  assert.ok(seen.length >= 1 && seen.every((k) => k.mode === 'test'), JSON.stringify(seen.map((k) => k.mode)));
  assertProblem(await api('DELETE', `/keys/${live.body.id}`, { token: sandboxAdmin.key }), 404);
  const made = await api('POST', '/keys', { body: {}, token: sandboxAdmin.key });
  assert.match(made.body.key, /^ct_test_/, 'a test admin key makes test keys by default');

  // Hostile bodies are 4xx naming the field.
  const bad = assertProblem(await api('POST', '/keys', { body: { role: 'owner', name: 'x'.repeat(101) }, token: a.key }), 422);
  assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['name', 'role']);
  assert.equal(assertProblem(await api('POST', '/keys', { body: { extra: 1 }, token: a.key }), 400, 'invalid_body').errors[0].field, 'extra');
  assertProblem(await api('POST', '/keys', { body: { role: 'root' }, token: a.key }), 422);
  assertProblem(await api('POST', '/keys', { body: { name: 'x'.repeat(101) }, token: a.key }), 422);
});

test('rolling a key: a new secret now, the old one valid for the grace period chosen (at most 7 days)', async () => {
  const admin = await createKey('pro');
  const old = (await api('POST', '/keys', { body: { name: 'billing' }, token: admin.key })).body;
  assertProblem(await api('POST', `/keys/${old.id}/roll`, { body: { expires_in_s: 8 * 86400 }, token: admin.key }), 422);

  const rolled = await api('POST', `/keys/${old.id}/roll`, { body: { expires_in_s: 3 }, token: admin.key });
  assert.equal(rolled.status, 201, rolled.text);
  assert.notEqual(rolled.body.key, old.key);
  assert.deepEqual([rolled.body.name, rolled.body.role, rolled.body.mode], ['billing', 'standard', 'live']);
  assert.equal(rolled.body.rolled.id, old.id);
  const ends = Date.parse(rolled.body.rolled.expires_at);
  assert.ok(ends > Date.now() && ends <= Date.now() + 4000, rolled.body.rolled.expires_at);
  // Both work during the grace period; the old one is refused after it.
  assert.equal((await api('POST', '/footprint', { body: laptop, token: old.key })).status, 200);
  assert.equal((await api('POST', '/footprint', { body: laptop, token: rolled.body.key })).status, 200);
  await new Promise((r) => setTimeout(r, Math.max(0, ends - Date.now()) + 300));
  assertProblem(await api('POST', '/footprint', { body: laptop, token: old.key }), 401, 'expired_api_key');
  assert.equal((await api('POST', '/footprint', { body: laptop, token: rolled.body.key })).status, 200);
  assertProblem(await api('POST', `/keys/${old.id}/roll`, { body: {}, token: admin.key }), 409, 'key_not_active');

  // Roll with no grace: the old key is refused at once.
  const now = (await api('POST', `/keys/${rolled.body.id}/roll`, { token: admin.key })).body;
  assertProblem(await api('POST', '/footprint', { body: laptop, token: rolled.body.key }), 401, 'expired_api_key');
  assert.equal((await api('POST', '/footprint', { body: laptop, token: now.key })).status, 200);
  const audit = await d1(`SELECT action, details FROM audit_log WHERE org_id = '${admin.org_id}' AND action = 'key.rolled'`);
  assert.equal(audit.length, 2);

  // The operator's own route still creates keys, standard ones on request.
  const r = await api('POST', '/admin/keys', { body: { org: `ops-${admin.org_id}`, plan: 'pro', role: 'standard' }, token: ADMIN_TOKEN });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.role, 'standard');
  assertProblem(await api('GET', '/keys', { token: r.body.key }), 403, 'admin_role_required');
});
