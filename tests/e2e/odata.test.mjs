// OData v4 feed: service document, strict $metadata, entity sets, each $filter operator,
// ordering, paging through nextLink to the end, counts, proof headers checked against the
// audit log, a real OData client (python-odata), and refusals (no key, non-Enterprise,
// other organisations).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { api, createKey, d1, BASE } from './harness.mjs';

const POWER_QUERY = {
  'User-Agent': 'Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)',
  MaxDataServiceVersion: '3.0',
  'OData-MaxVersion': '4.0',
  Accept: 'application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7',
};
const ROWS = 2500;
let ent;
let basic;

before(async () => {
  ent = await createKey('enterprise', { org: `OData Org ${Date.now()}` });
  basic = 'Basic ' + Buffer.from(`apikey:${ent.key}`).toString('base64');
  // 2,500 assets of this organisation, and one of another.
  await d1(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${ROWS})
    INSERT INTO assets (org_id, document_id, source, manufacturer, model, serial, category, ram_gb, storage_gb, erased_at, request, avoided_kg_co2e, imported_at)
    SELECT '${ent.org_id}', printf('doc-%05d', x), 'blancco_upload', CASE x % 3 WHEN 0 THEN 'Dell' WHEN 1 THEN 'HP' ELSE 'Lenovo' END,
      'Model ' || (x % 50), 'SN' || x, CASE x % 4 WHEN 0 THEN 'desktop' ELSE 'laptop' END, 8 * (1 + x % 4), 256,
      printf('2026-%02d-15T10:00:00.000Z', 1 + x % 12), '{}', (x % 300) * 1.0, '2026-11-01T00:00:00.000Z' FROM n`);
  const other = await createKey('enterprise', { org: `OData Other ${Date.now()}` });
  await d1(`INSERT INTO assets (org_id, document_id, source, model, category, request, avoided_kg_co2e, imported_at)
    VALUES ('${other.org_id}', 'doc-foreign', 'blancco_upload', 'X', 'laptop', '{}', 1, '2026-11-01T00:00:00.000Z')`);
});

async function get(path, headers = {}) {
  const res = await fetch(`${BASE}/api/v1/odata${path}`, { headers: { ...POWER_QUERY, Authorization: basic, ...headers } });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, headers: res.headers, text, body };
}

test('service document and strict $metadata', async () => {
  const s = await get('/');
  assert.equal(s.status, 200, s.text);
  assert.equal(s.headers.get('odata-version'), '4.0', 'exactly one OData-Version');
  assert.match(s.headers.get('content-type'), /^application\/json;odata\.metadata=minimal/);
  assert.equal(s.body['@odata.context'], `${BASE}/api/v1/odata/$metadata`);
  assert.deepEqual(s.body.value.map((v) => v.name).sort(), ['Assets', 'AuditLog', 'Calculations', 'Certificates', 'InventoryAssets']);
  const m = await get('/$metadata');
  assert.match(m.headers.get('content-type'), /^application\/xml/);
  assert.match(m.text, /^<\?xml version="1.0" encoding="utf-8"\?>\n<edmx:Edmx Version="4.0" xmlns:edmx="http:\/\/docs.oasis-open.org\/odata\/ns\/edmx">/);
  // Strict: every entity type has a Key whose property exists and is non-nullable; types are Edm.
  const types = [...m.text.matchAll(/<EntityType Name="(\w+)">([\s\S]*?)<\/EntityType>/g)];
  assert.equal(types.length, 5);
  for (const [, name, body] of types) {
    const key = body.match(/<PropertyRef Name="(\w+)"\/>/)[1];
    assert.match(body, new RegExp(`<Property Name="${key}" Type="Edm\\.\\w+" Nullable="false"/>`), name);
    for (const [, t] of body.matchAll(/Type="([^"]+)"/g)) assert.ok(['Edm.String', 'Edm.Decimal', 'Edm.Int64', 'Edm.Boolean', 'Edm.DateTimeOffset'].includes(t), t);
  }
});

test('paging through nextLink to the end loses and repeats no row', async () => {
  let url = `${BASE}/api/v1/odata/Assets?$select=DocumentId,Category&$count=true`;
  const seen = [];
  let pages = 0;
  let count;
  const t0 = Date.now();
  while (url) {
    const res = await fetch(url, { headers: { ...POWER_QUERY, Authorization: basic } });
    const b = await res.json();
    if (pages === 0) {
      count = b['@odata.count'];
      assert.equal(b['@odata.context'], `${BASE}/api/v1/odata/$metadata#Assets(DocumentId,Category)`);
    }
    seen.push(...b.value.map((v) => v.DocumentId));
    assert.ok(b.value.every((v) => Object.keys(v).sort().join() === 'Category,DocumentId'), 'only the selected properties');
    url = b['@odata.nextLink'];
    if (url) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/odata\/Assets\?.*(\$|%24)skiptoken=/);
    pages += 1;
  }
  console.log(`OData: ${ROWS} rows in ${pages} pages, ${Math.round(ROWS / ((Date.now() - t0) / 1000))} rows/s (Power Query headers, $select of 2 columns)`);
  assert.equal(count, ROWS);
  assert.equal(pages, 3);
  assert.equal(seen.length, ROWS);
  assert.equal(new Set(seen).size, ROWS);
  assert.ok(!seen.includes('doc-foreign'));
  const c = await get('/Assets/$count');
  assert.equal(c.text, String(ROWS));
  assert.match(c.headers.get('content-type'), /^text\/plain/);
  const top = await get('/Assets?$top=1200&$skip=100');
  assert.equal(top.body.value.length, 1000);
  const rest = await fetch(top.body['@odata.nextLink'], { headers: { Authorization: basic } }).then((r) => r.json());
  assert.equal(rest.value.length, 200, 'never past $top');
  assert.equal(rest['@odata.nextLink'], undefined);
});

test('every $filter operator, ordering and entity by key', async () => {
  const n = async (q) => {
    const r = await get(`/Assets/$count?${q}`);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    return Number(r.text);
  };
  const f = (s) => `$filter=${encodeURIComponent(s)}`;
  // A replica of the rows inserted in before(), to compute what each filter must return.
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const x = i + 1;
    return { id: `doc-${String(x).padStart(5, '0')}`, maker: ['Dell', 'HP', 'Lenovo'][x % 3], model: `Model ${x % 50}`, serial: `SN${x}`,
      cat: x % 4 === 0 ? 'desktop' : 'laptop', month: 1 + (x % 12), avoided: x % 300 };
  });
  const count = (pred) => rows.filter(pred).length;
  assert.equal(await n(f("Category eq 'desktop'")), ROWS / 4);
  assert.equal(await n(f("Category ne 'desktop'")), ROWS * 3 / 4);
  assert.equal(await n(f('AvoidedKgCo2e gt 298')), count((r) => r.avoided > 298));
  assert.equal(await n(f('AvoidedKgCo2e ge 298')), count((r) => r.avoided >= 298));
  assert.equal(await n(f('AvoidedKgCo2e lt 1')), count((r) => r.avoided < 1));
  assert.equal(await n(f('AvoidedKgCo2e le 1')), count((r) => r.avoided <= 1));
  assert.equal(await n(f("Category eq 'desktop' and Manufacturer eq 'Dell'")), count((r) => r.cat === 'desktop' && r.maker === 'Dell'));
  assert.equal(await n(f("(Manufacturer eq 'Dell' or Manufacturer eq 'HP') and not (Category eq 'laptop')")), count((r) => ['Dell', 'HP'].includes(r.maker) && r.cat !== 'laptop'));
  assert.equal(await n(f("contains(Model,'Model 4')")), count((r) => r.model.includes('Model 4')));
  assert.equal(await n(f("startswith(Serial,'SN24')")), count((r) => r.serial.startsWith('SN24')));
  assert.equal(await n(f("endswith(DocumentId,'00')")), count((r) => r.id.endsWith('00')));
  assert.equal(await n(f('year(ErasedAt) eq 2026 and month(ErasedAt) eq 3 and day(ErasedAt) eq 15')), count((r) => r.month === 3));
  assert.equal(await n(f("Manufacturer in ('Dell','HP')")), count((r) => ['Dell', 'HP'].includes(r.maker)));
  assert.equal(await n(f('ErasedAt ge 2026-06-01T00:00:00Z and ErasedAt lt 2026-07-01T00:00:00Z')), count((r) => r.month === 6));
  assert.equal(await n(f('ProductId eq null')), ROWS);
  const ordered = await get(`/Assets?$select=DocumentId,AvoidedKgCo2e,Manufacturer&$orderby=AvoidedKgCo2e desc,Manufacturer asc&$top=20`);
  const vals = ordered.body.value;
  for (let i = 1; i < vals.length; i++) {
    assert.ok(vals[i - 1].AvoidedKgCo2e > vals[i].AvoidedKgCo2e
      || (vals[i - 1].AvoidedKgCo2e === vals[i].AvoidedKgCo2e && vals[i - 1].Manufacturer <= vals[i].Manufacturer));
  }
  const one = await get("/Assets('doc-00042')");
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.DocumentId, 'doc-00042');
  assert.match(one.body['@odata.context'], /\$metadata#Assets\/\$entity$/);
  assert.equal((await get("/Assets('doc-foreign')")).status, 404, 'another organisation\'s row is not found');
  const bad = await get(`/Assets?${f("Category eq 'x' and")}`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.target, '$filter');
  assert.match(bad.body.error.message, /position \d+/);
  const exp = await get('/Assets?$expand=Foo');
  assert.equal(exp.status, 400);
  assert.equal(exp.body.error.target, '$expand');
});

/** The README's recipe: the length-prefixed ct-proof-2 bytes, checked with the published key. */
function checkProof(proof, jwks) {
  const jwk = jwks.keys.find((k) => k.kid === proof.kid && k.purpose === 'odata-proof');
  if (!jwk) return false;
  const parts = [Buffer.from('ct-proof-2')];
  for (const f of [proof.org, proof.seq, proof.entry, proof.prev, proof.body]) {
    const b = Buffer.from(String(f), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  }
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  return edVerify(null, Buffer.concat(parts), key, Buffer.from(proof.sig, 'base64url'));
}

test('proof headers match the audit log and verify with the published proof key', async () => {
  const r = await get('/Assets?$top=3');
  const proof = Object.fromEntries(r.headers.get('x-carbontrace-proof').split('; ').map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  assert.equal(proof.v, 'ct-proof-2');
  assert.equal(proof.org, ent.org_id);
  assert.equal(proof.body, createHash('sha256').update(r.text).digest('hex'));
  const [row] = await d1(`SELECT seq, hash, prev_hash, action, details FROM audit_log WHERE org_id = '${ent.org_id}' AND seq = ${Number(proof.seq)}`);
  assert.equal(row.action, 'odata.read');
  assert.equal(row.hash, proof.entry);
  assert.equal(row.prev_hash, proof.prev);
  assert.equal(JSON.parse(row.details).body_sha256, proof.body);
  const jwks = await (await fetch(`${BASE}/.well-known/jwks.json`)).json();
  assert.equal(checkProof(proof, jwks), true, 'verifies with the odata-proof key');
  assert.equal(checkProof({ ...proof, body: proof.body.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }, jwks), false);
  assert.equal(checkProof({ ...proof, kid: jwks.keys.find((k) => k.purpose === 'certificate').kid }, jwks), false, 'one key per purpose');
  const v = await api('GET', `/admin/orgs/${ent.org_id}/audit/verify`, { token: process.env.CT_ADMIN_TOKEN });
  assert.equal(v.body.valid, true);
});

test('a real OData v4 client reads the feed', async () => {
  const out = JSON.parse(execFileSync('python3', [new URL('./odata_client.py', import.meta.url).pathname, `${BASE}/api/v1/odata/`, ent.key],
    { encoding: 'utf8', maxBuffer: 1 << 26 }));
  assert.deepEqual(out.entity_types, ['Assets', 'AuditLog', 'Calculations', 'Certificates', 'InventoryAssets']);
  assert.equal(out.assets.length, ROWS);
  assert.equal(new Set(out.assets).size, ROWS);
  assert.equal(out.laptops.length, ROWS * 3 / 4);
  assert.ok(out.big.every(([, v]) => v > 100));
  assert.equal(out.count, ROWS);
  assert.ok(out.audit_seqs.length > 5);
});

test('no key is a 401 with a Basic challenge; other plans are refused; Bearer works', async () => {
  const none = await fetch(`${BASE}/api/v1/odata/`, { headers: POWER_QUERY });
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /Basic realm="odata"/);
  const pro = await createKey('pro');
  const p = await get('/', { Authorization: `Bearer ${pro.key}` });
  assert.equal(p.status, 403);
  assert.equal(p.body.code, 'plan_required');
  assert.equal((await get('/', { Authorization: `Bearer ${ent.key}` })).status, 200);
  const wrong = await get('/', { Authorization: 'Basic ' + Buffer.from('apikey:ct_live_' + '0'.repeat(40)).toString('base64') });
  assert.equal(wrong.status, 401);
});

test('50 concurrent reads all answer 200, and the audit chain they write still verifies', async () => {
  const before = await d1(`SELECT COUNT(*) AS n FROM audit_log WHERE org_id = '${ent.org_id}'`);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`/Assets?$top=${1 + i}&$select=DocumentId`)));
  assert.deepEqual(results.map((r) => r.status), Array(50).fill(200), results.find((r) => r.status !== 200)?.text);
  const after = await d1(`SELECT COUNT(*) AS n FROM audit_log WHERE org_id = '${ent.org_id}'`);
  assert.equal(after[0].n - before[0].n, 50, 'one entry per read, none lost');
  // Every response's proof names a distinct entry of the chain.
  const seqs = new Set(results.map((r) => r.headers.get('x-carbontrace-audit-seq') ?? r.headers.get('x-carbontrace-proof')));
  assert.equal(seqs.size, 50);
  const v = await api('GET', `/admin/orgs/${ent.org_id}/audit/verify`, { token: process.env.CT_ADMIN_TOKEN });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.valid, true, JSON.stringify(v.body));
  assert.equal(v.body.entries, after[0].n);
});
