// Certificates: issue, fetch JSON and PDF (checked with qpdf and pdftotext), verify, tamper
// with the D1 record and (separately) the R2 PDF, cross-organisation access, idempotency.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { api, assertProblem, createKey, d1, BASE } from './harness.mjs';
import { jcs } from './recipes.mjs';

let acme;
let other;
before(async () => {
  acme = await createKey('pro', { org: `Acme Certs ${Date.now()}` });
  other = await createKey('pro', { org: `Other Certs ${Date.now()}` });
});

const body = {
  footprint: { product: { id: 'dell--latitude-5420' }, use: { country: 'FR', lifetime_years: 5 } },
  asset: { serial: '5CG1234XYZ', asset_tag: 'IT-00042' },
};

async function pdfOf(id, token) {
  const res = await fetch(`${BASE}/api/v1/certificates/${id}?format=pdf`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.match(res.headers.get('content-disposition'), /attachment; filename="carbontrace-certificate-cert_[0-9a-f]+\.pdf"/);
  return Buffer.from(await res.arrayBuffer());
}

function pdfTools(buf) {
  const dir = mkdtempSync(join(tmpdir(), 'ct-pdf-'));
  const file = join(dir, 'c.pdf');
  writeFileSync(file, buf);
  execFileSync('qpdf', ['--check', file], { stdio: 'pipe' }); // throws on a broken PDF
  const pages = Number(execFileSync('qpdf', ['--show-npages', file], { encoding: 'utf8' }).trim());
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  return { pages, text, file };
}

test('issue a certificate, fetch it as JSON and as a valid PDF, verify it publicly', async () => {
  const r = await api('POST', '/certificates', { body, token: acme.key });
  assert.equal(r.status, 201, r.text);
  const c = r.body;
  assert.match(c.id, /^cert_[0-9a-f]{24}$/);
  assert.match(c.content_hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(Object.keys(c.signature).sort(), ['alg', 'kid', 'value']);
  assert.equal(c.signature.alg, 'EdDSA');
  assert.equal(c.signature.kid, 't1');
  assert.match(c.signature.value, /^[A-Za-z0-9_-]{86}$/, '64 bytes, base64url');
  assert.equal(c.certificate.schema, 'ct-cert-2');
  assert.equal(c.verification_url, `${BASE}/api/v1/certificates/${c.id}/verify`);
  assert.equal(c.certificate.asset.serial, '5CG1234XYZ');
  assert.equal(c.certificate.issuer.org_name, acme.org);
  const direct = await api('POST', '/footprint', { body: body.footprint, token: acme.key });
  assert.equal(c.certificate.result.total_kg_co2e, direct.body.total_kg_co2e, 'the certified figure is the API figure');
  assert.equal(c.certificate.factor_set_version, direct.body.methodology.factor_set_version);
  console.log(`certificate PDF: ${c.pdf.bytes} bytes, rendered in ${c.pdf.render_ms} ms`);

  const j = await api('GET', `/certificates/${c.id}`, { token: acme.key });
  assert.equal(j.status, 200);
  assert.equal(j.body.content_hash, c.content_hash);
  assert.deepEqual(j.body.certificate, c.certificate);

  const pdf = await pdfOf(c.id, acme.key);
  assert.equal(pdf.length, c.pdf.bytes);
  const { pages, text } = pdfTools(pdf);
  assert.equal(pages, 1);
  assert.ok(text.includes(c.id), 'id in the PDF text');
  assert.ok(text.includes(direct.body.total_kg_co2e.toFixed(2)), `total ${direct.body.total_kg_co2e} in the PDF text`);
  assert.ok(text.includes(c.content_hash.slice(0, 40)));
  assert.ok(text.includes('/verify'));
  // What an offline verifier needs is in the PDF: the signed bytes as an attachment, byte for
  // byte, and the verification URL as a QR code a real decoder reads.
  const file = pdfTools(pdf).file;
  const attached = execFileSync('qpdf', [`--show-attachment=certificate.json`, file]);
  assert.equal(attached.toString('utf8'), jcs(c.certificate));
  execFileSync('pdftoppm', ['-r', '200', '-png', '-f', '1', '-l', '1', file, `${file}-page`]);
  const png = readdirSync(dirname(file)).find((f) => f.startsWith(basename(file) + '-page') && f.endsWith('.png'));
  const decoded = execFileSync('zbarimg', ['-q', '--raw', join(dirname(file), png)], { encoding: 'utf8' }).trim();
  assert.equal(decoded, c.verification_url);
  assert.ok(text.includes(`key ${c.signature.kid}`), 'the key id is printed');
  const viaAccept = await fetch(`${BASE}/api/v1/certificates/${c.id}`, { headers: { Authorization: `Bearer ${acme.key}`, Accept: 'application/pdf' } });
  assert.equal(viaAccept.headers.get('content-type'), 'application/pdf');

  const v = await api('GET', `/certificates/${c.id}/verify`, { token: null });
  assert.equal(v.status, 200);
  assert.equal(v.body.status, 'valid');
  assert.equal(v.body.valid, true);
  assert.deepEqual(v.body.checks, { content_hash: true, signature: true, pdf: true });
  assert.equal(v.body.issuer, acme.org);
  assert.equal(v.body.figures.total_kg_co2e, direct.body.total_kg_co2e);
});

test('a tampered record or a tampered PDF fails verification', async () => {
  const a = (await api('POST', '/certificates', { body, token: acme.key })).body;
  const b = (await api('POST', '/certificates', { body, token: acme.key })).body;
  // Record: change the certified total in D1.
  const [row] = await d1(`SELECT canonical FROM certificates WHERE id = '${a.id}'`);
  const forged = row.canonical.replace(/"total_kg_co2e":[0-9.]+/, '"total_kg_co2e":1.0');
  assert.notEqual(forged, row.canonical);
  await d1(`UPDATE certificates SET canonical = '${forged.replace(/'/g, "''")}' WHERE id = '${a.id}'`);
  let v = await api('GET', `/certificates/${a.id}/verify`);
  assert.equal(v.body.status, 'invalid');
  assert.equal(v.body.checks.content_hash, false);
  // …and re-hashing the forged content does not help: the signature no longer matches.
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256').update(forged).digest('hex');
  await d1(`UPDATE certificates SET content_hash = '${h}' WHERE id = '${a.id}'`);
  v = await api('GET', `/certificates/${a.id}/verify`);
  assert.equal(v.body.status, 'invalid');
  assert.deepEqual([v.body.checks.content_hash, v.body.checks.signature], [true, false]);
  // PDF: verified (and its verdict cached), then replaced in R2: the cache does not hide it.
  for (const cache of ['miss', 'hit']) {
    const ok = await api('GET', `/certificates/${b.id}/verify`);
    assert.equal(ok.body.status, 'valid');
    assert.equal(ok.headers.get('x-carbontrace-verify-cache'), cache);
  }
  const [{ pdf_key: key }] = await d1(`SELECT pdf_key FROM certificates WHERE id = '${b.id}'`);
  const dir = mkdtempSync(join(tmpdir(), 'ct-r2-'));
  const fake = join(dir, 'fake.pdf');
  writeFileSync(fake, '%PDF-1.7\n% forged\n');
  execFileSync('wrangler', ['r2', 'object', 'put', `carbontrace/${key}`, '--file', fake, '--local',
    '--persist-to', `${process.env.CT_STATE_DIR}/wrangler`], { stdio: 'pipe', cwd: new URL('../..', import.meta.url).pathname });
  v = await api('GET', `/certificates/${b.id}/verify`);
  assert.equal(v.body.status, 'invalid');
  assert.deepEqual(v.body.checks, { content_hash: true, signature: true, pdf: false });
  assert.equal(v.headers.get('x-carbontrace-verify-cache'), 'miss', 'a changed object is hashed afresh');
});

test('another organisation cannot read a certificate; revocation shows in verification', async () => {
  const c = (await api('POST', '/certificates', { body, token: acme.key })).body;
  assertProblem(await api('GET', `/certificates/${c.id}`, { token: other.key }), 404, 'not_found');
  assertProblem(await api('GET', `/certificates/${c.id}?format=pdf`, { token: other.key }), 404);
  assertProblem(await api('DELETE', `/certificates/${c.id}`, { token: other.key }), 404);
  assertProblem(await api('GET', `/certificates/${c.id}`, { token: null }), 401, 'api_key_required');
  const r = await api('DELETE', `/certificates/${c.id}`, { token: acme.key });
  assert.equal(r.status, 200);
  const v = await api('GET', `/certificates/${c.id}/verify`);
  assert.equal(v.body.status, 'revoked');
  assert.equal(v.body.valid, false);
  assertProblem(await api('GET', '/certificates/cert_nope/verify'), 404);
});

test('idempotent replay returns the same certificate; another body is a 422', async () => {
  const idem = `cert-${Date.now()}`;
  const a = await api('POST', '/certificates', { body, token: acme.key, headers: { 'Idempotency-Key': idem } });
  const b = await api('POST', '/certificates', { body, token: acme.key, headers: { 'Idempotency-Key': idem } });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(b.headers.get('idempotent-replayed'), 'true');
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.body.content_hash, a.body.content_hash);
  const [{ n }] = await d1(`SELECT COUNT(*) AS n FROM certificates WHERE id = '${a.body.id}'`);
  assert.equal(n, 1);
  assertProblem(await api('POST', '/certificates', { body: { ...body, asset: { serial: 'other' } }, token: acme.key, headers: { 'Idempotency-Key': idem } }), 422, 'idempotency_key_reused');
});

test('savings certificates, bad input, and the sandbox', async () => {
  const s = await api('POST', '/certificates', { body: { savings: { device: { category: 'laptop' }, scenario: 'refurbish', extra_years: 3 } }, token: acme.key });
  assert.equal(s.status, 201, s.text);
  assert.equal(s.body.kind, 'savings');
  const { text } = pdfTools(await pdfOf(s.body.id, acme.key));
  assert.match(text, /Avoided emissions/);
  assert.ok(text.includes(s.body.certificate.result.avoided_kg_co2e.toFixed(2)));
  let p = assertProblem(await api('POST', '/certificates', { body: { footprint: { category: 'toaster' }, asset: { colour: 'red' } }, token: acme.key }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['asset.colour', 'footprint.category']);
  p = assertProblem(await api('POST', '/certificates', { body: { footprint: { category: 'laptop' }, savings: {} }, token: acme.key }), 422);
  assert.equal(p.errors[0].field, 'footprint');
  assertProblem(await api('POST', '/certificates', { body, token: null }), 401, 'api_key_required');
  const sb = await createKey('pro', { mode: 'test' });
  const mock = await api('POST', '/certificates', { body, token: sb.key });
  assert.equal(mock.status, 201);
  assert.equal(mock.body._sandbox, true);
  assert.equal(mock.body.signature, null);
  // Sandbox certificates are not stored: fetching one is the same 404 as any missing certificate.
  const g = assertProblem(await api('GET', `/certificates/${mock.body.id}`, { token: sb.key }), 404, 'not_found');
  assert.equal(g._sandbox, true);
});
