// Certificates anyone can check without calling us: Ed25519 over the RFC 8785 (JCS) bytes of
// the certificate JSON, with the key from /.well-known/jwks.json. Both README recipes run
// here (Node's crypto and Python's cryptography + jcs): valid as issued, invalid once a figure
// is changed. ct-cert-1 (HMAC) certificates already issued keep verifying through /verify.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { api, createKey, d1, BASE } from './harness.mjs';
import { jcs, verifyOffline, verifyInPython } from './recipes.mjs';

let org;
before(async () => { org = await createKey('pro', { org: `Offline Org ${Date.now()}` }); });

test('a certificate verifies offline with the published key, in Node and in Python', async () => {
  const issued = (await api('POST', '/certificates', { body: { footprint: { category: 'laptop', specs: { weight_kg: 1.37 } } }, token: org.key })).body;
  const res = await fetch(`${BASE}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('cache-control'), /public/);
  const jwks = await res.json();
  const jwk = jwks.keys.find((k) => k.kid === issued.signature.kid);
  assert.deepEqual([jwk.kty, jwk.crv, jwk.alg, jwk.use, jwk.purpose], ['OKP', 'Ed25519', 'EdDSA', 'sig', 'certificate']);
  assert.equal(jwk.valid_until, null, 'the current key');
  assert.ok(jwks.keys.some((k) => k.purpose === 'odata-proof'), 'one key per purpose');
  assert.equal(issued.certificate.verification.jwks_url, `${BASE}/.well-known/jwks.json`);
  assert.equal(verifyOffline(issued.certificate, issued.signature, jwks), true);
  assert.equal(verifyInPython(issued, jwks), 'valid');
  // Kept for the rotation phase (tests/e2e/rotation), which runs after a key change.
  writeFileSync(`${process.env.CT_STATE_DIR}/before-rotation.json`, JSON.stringify({ issued, jwks }));
  // The stored bytes are exactly what the recipe rebuilds.
  const [row] = await d1(`SELECT canonical FROM certificates WHERE id = '${issued.id}'`);
  assert.equal(row.canonical, jcs(issued.certificate));
  // One figure changed: both recipes say invalid.
  const forged = structuredClone(issued);
  forged.certificate.result.total_kg_co2e += 1;
  assert.equal(verifyOffline(forged.certificate, forged.signature, jwks), false);
  assert.equal(verifyInPython(forged, jwks), 'invalid');
});

test('an unknown key id is invalid, saying why; ct-cert-1 certificates still verify', async () => {
  const issued = (await api('POST', '/certificates', { body: { footprint: { category: 'monitor' } }, token: org.key })).body;
  await d1(`UPDATE certificates SET signing_key_id = 'retired-and-forgotten' WHERE id = '${issued.id}'`);
  const v = await api('GET', `/certificates/${issued.id}/verify`, { token: null });
  assert.equal(v.body.status, 'invalid');
  assert.ok(v.body.problems.some((p) => /signing key `retired-and-forgotten` is unknown/.test(p)), JSON.stringify(v.body.problems));

  // A certificate issued before Ed25519: HMAC over the content hash, under CERT_SIGNING_KEY.
  const env = readFileSync(`${process.env.CT_STATE_DIR}/test.env`, 'utf8');
  const hmacKey = env.match(/^CERT_SIGNING_KEY=(.*)$/m)[1];
  const [src] = await d1(`SELECT * FROM certificates WHERE id = '${issued.id}'`);
  const doc = { ...JSON.parse(src.canonical), schema: 'ct-cert-1', certificate_id: 'cert_legacy000000000000001' };
  delete doc.verification;
  const canonical = jcs(doc);
  const hash = createHash('sha256').update(canonical).digest('hex');
  const sig = createHmac('sha256', hmacKey).update(`ct-cert-1:${hash}`).digest('base64');
  await d1(`INSERT INTO certificates (id, org_id, key_id, kind, issued_at, canonical, content_hash, signature, signing_key_id,
      factor_set_version, total_kg_co2e, pdf_key, pdf_hash, pdf_bytes, mode)
    VALUES ('cert_legacy000000000000001', '${org.org_id}', '${org.id}', 'footprint', '${src.issued_at}', '${canonical.replaceAll("'", "''")}',
      '${hash}', '${sig}', 'test', '${src.factor_set_version}', ${src.total_kg_co2e}, '${src.pdf_key}', '${src.pdf_hash}', ${src.pdf_bytes}, 'live')`);
  const legacy = await api('GET', '/certificates/cert_legacy000000000000001/verify', { token: null });
  assert.equal(legacy.body.status, 'valid', JSON.stringify(legacy.body));
  assert.deepEqual(legacy.body.checks, { content_hash: true, signature: true, pdf: true });
});
