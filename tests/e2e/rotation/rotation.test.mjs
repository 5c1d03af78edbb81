// After a key rotation (scripts/test.sh restarts the worker on the same data with new
// CERT_ED25519_KEY and PROOF_ED25519_KEY secrets): what was signed before still verifies,
// offline and through /verify, and what is signed now carries the new key id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, createKey, BASE } from '../harness.mjs';
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
