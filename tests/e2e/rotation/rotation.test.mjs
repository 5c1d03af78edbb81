// After a key rotation (scripts/test.sh restarts the worker on the same data with new
// CERT_ED25519_KEY and PROOF_ED25519_KEY secrets): what was signed before still verifies,
// offline and through /verify, and what is signed now carries the new key id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, BASE, ADMIN_TOKEN } from '../harness.mjs';
import { verifyOffline, verifyInPython } from '../recipes.mjs';

const before = JSON.parse(readFileSync(`${process.env.CT_STATE_DIR}/before-rotation.json`, 'utf8'));

test('certificates signed with the retired key still verify; new ones carry the new kid', async () => {
  const jwks = await (await fetch(`${BASE}/.well-known/jwks.json`)).json();
  const old = jwks.keys.find((k) => k.kid === 't1');
  const now = jwks.keys.find((k) => k.kid === 't2');
  assert.ok(old && now, JSON.stringify(jwks));
  assert.ok(old.valid_until, 'the retired key says until when it signed');
  assert.equal(now.valid_until, null);
  assert.ok(jwks.keys.some((k) => k.kid === 'p1' && k.valid_until) && jwks.keys.some((k) => k.kid === 'p2'));
  // The old certificate: offline with today's key set, and through the API.
  assert.equal(verifyOffline(before.issued.certificate, before.issued.signature, jwks), true);
  assert.equal(verifyInPython(before.issued, jwks), 'valid');
  const v = await api('GET', `/certificates/${before.issued.id}/verify`, { token: null });
  assert.equal(v.body.status, 'valid', JSON.stringify(v.body));
  // A new one is signed with the new key.
  const org = await createKey('pro');
  const fresh = (await api('POST', '/certificates', { body: { footprint: { category: 'laptop' } }, token: org.key })).body;
  assert.equal(fresh.signature.kid, 't2');
  assert.equal(fresh.certificate.verification.kid, 't2');
  assert.equal(verifyOffline(fresh.certificate, fresh.signature, jwks), true);
});

test('OData proofs are signed with the new proof key after the rotation', async () => {
  const ent = await createKey('enterprise');
  const res = await fetch(`${BASE}/api/v1/odata/Assets?$top=1`, { headers: { Authorization: `Bearer ${ent.key}` } });
  assert.equal(res.status, 200);
  const proof = Object.fromEntries(res.headers.get('x-carbontrace-proof').split('; ').map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  assert.equal(proof.kid, 'p2');
});

test('a distrusted key: its certificates verify as invalid with the reason, and it leaves the JWK Set', async () => {
  assertProblem(await api('POST', '/admin/signing-keys/t1/distrust', { body: { reason: '' }, token: ADMIN_TOKEN }), 422);
  assertProblem(await api('POST', '/admin/signing-keys/nope/distrust', { body: { reason: 'x' }, token: ADMIN_TOKEN }), 404);
  const d = await api('POST', '/admin/signing-keys/t1/distrust', { body: { reason: 'seed exposed in a CI log' }, token: ADMIN_TOKEN });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.body.already_distrusted, false);
  assert.ok(d.body.distrusted_at);
  const again = await api('POST', '/admin/signing-keys/t1/distrust', { body: { reason: 'other' }, token: ADMIN_TOKEN });
  assert.deepEqual([again.body.already_distrusted, again.body.distrust_reason], [true, 'seed exposed in a CI log']);
  const v = await api('GET', `/certificates/${before.issued.id}/verify`, { token: null });
  assert.equal(v.body.status, 'invalid');
  assert.equal(v.body.checks.signature, false);
  assert.ok(v.body.problems.some((p) => p.includes('distrusted') && p.includes('seed exposed in a CI log')), JSON.stringify(v.body.problems));
  const jwks = await (await fetch(`${BASE}/.well-known/jwks.json`)).json();
  assert.ok(!jwks.keys.some((k) => k.kid === 't1'), 'withdrawn from the JWK Set');
  assert.equal(verifyOffline(before.issued.certificate, before.issued.signature, jwks), false, 'offline verifiers stop accepting it');
  // Certificates of the current key are untouched.
  const org = await createKey('pro');
  const fresh = (await api('POST', '/certificates', { body: { footprint: { category: 'laptop' } }, token: org.key })).body;
  assert.equal((await api('GET', `/certificates/${fresh.id}/verify`, { token: null })).body.status, 'valid');
});
