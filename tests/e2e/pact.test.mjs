// PACT v3 host (spec v3.0): an organisation publishes ProductFootprints and its data recipients
// read them at /pact with OAuth2 client credentials. Each mandatory case of WBCSD's conformance
// tool (pact-conformance-service, V3.0) that runs without a callback has its own check here:
// tokens (1, 2, 18, 19), get and list (3, 4, 8), the `next` link (5), invalid tokens (6, 7,
// 16), events (12, 14.A, 15, 40), every filter and its negative case (20–39). Every footprint
// served is validated against the v3 JSON schema (tests/pact/). HTTPS-only (9–11, 17) is the
// manual conformance run's: this suite talks plain HTTP to a loopback address.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { BASE, api, assertProblem, createKey, d1, ADMIN_TOKEN } from './harness.mjs';

const origin = new URL(BASE).origin;
const schema = (f) => JSON.parse(readFileSync(new URL(`../pact/${f}`, import.meta.url)));
const ajv = addFormats(new Ajv({ allErrors: true }));
const validFootprint = ajv.compile(schema('product-footprint.v3.schema.json'));
const validEvent = ajv.compile(schema('events.v3.schema.json'));
function assertFootprint(pf) {
  assert.ok(validFootprint(pf), JSON.stringify(validFootprint.errors));
}

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const gtin = (n) => `urn:gtin:0${run.length}${n}${Date.now() % 100000}`;
let owner;
let client;
const published = [];

/** A PACT call: path under /pact, with a bearer token unless `token: null`. */
async function pact(method, path, { token, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/cloudevents+json';
  }
  const res = await fetch(`${origin}/pact${path}`, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

async function tokenFor(id, secret) {
  const res = await fetch(`${origin}/pact/auth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: 'grant_type=client_credentials',
  });
  return { status: res.status, body: await res.json() };
}

const event = (type, data, id = `${run}/${Math.random().toString(36).slice(2)}`) =>
  ({ type: `org.wbcsd.pact.ProductFootprint.${type}.3`, specversion: '1.0', id, source: 'https://buyer.example/pact', time: new Date().toISOString(), data });

before(async () => {
  owner = await createKey('enterprise', { org: `PACT Supplier ${run}` });
  const profile = await api('PUT', '/pact/profile', { token: owner.key, body: { company_name: 'Supplier Inc', company_ids: ['urn:lei:5493001KJTIIGC8Y1R12', `urn:duns:${run}`] } });
  assert.equal(profile.status, 200, profile.text);
  const one = await api('POST', '/pact/footprints', { token: owner.key, body: {
    footprint: { product: { id: 'dell--latitude-5420' } }, product_ids: [gtin(1)], product_name_company: 'Latitude 5420',
    product_description: '14-inch laptop', product_classifications: ['urn:pact:cpc:45270'], geography_country: 'CN',
    reference_period_start: '2025-01-01T00:00:00Z', reference_period_end: '2026-01-01T00:00:00Z' } });
  assert.equal(one.status, 201, one.text);
  published.push(one.body.data);
  const cert = await api('POST', '/certificates', { token: owner.key, body: { footprint: { category: 'monitor', specs: { screen_size_in: 27 } } } });
  assert.equal(cert.status, 201, cert.text);
  const two = await api('POST', '/pact/footprints', { token: owner.key, body: {
    certificate_id: cert.body.id, product_ids: [gtin(2), `urn:mpn:MON-${run}`], product_name_company: 'Monitor 27', geography_country: 'VN' } });
  assert.equal(two.status, 201, two.text);
  published.push(two.body.data);
  const c = await api('POST', '/pact/clients', { token: owner.key, body: { name: 'Buyer' } });
  assert.equal(c.status, 201, c.text);
  assert.match(c.body.client_secret, /^pcs_[0-9a-f]{64}$/);
  assert.equal(c.body.base_url, `${origin}/pact`);
  client = c.body;
});

test('publishing: a v3 ProductFootprint, cradle to gate per piece, decimals as strings', () => {
  for (const pf of published) assertFootprint(pf);
  const [laptop, monitor] = published;
  assert.equal(laptop.specVersion, '3.0.0');
  assert.equal(laptop.companyName, 'Supplier Inc');
  assert.equal(laptop.pcf.declaredUnitOfMeasurement, 'piece');
  assert.equal(typeof laptop.pcf.pcfExcludingBiogenicUptake, 'string');
  assert.match(laptop.pcf.boundaryProcessesDescription, /Cradle to gate.*Excludes the use stage/);
  assert.match(laptop.pcf.boundaryProcessesDescription, /published product carbon footprint/);
  assert.equal(monitor.pcf.primaryDataShare, '0', 'a model estimate is no primary data');
  assert.equal(monitor.pcf.geographyCountry, 'VN');
});

test('tokens: client credentials by HTTP Basic; a wrong secret is invalid_client; discovery names the endpoint (cases 1, 2, 18, 19)', async () => {
  const ok = await tokenFor(client.client_id, client.client_secret);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.token_type, 'Bearer');
  assert.equal(ok.body.expires_in, 3600);
  const bad = await tokenFor(client.client_id, 'pcs_wrong');
  assert.ok([400, 401].includes(bad.status));
  assert.equal(bad.body.error, 'invalid_client');
  assert.equal((await tokenFor('pc_unknown', 'x')).body.error, 'invalid_client');
  const grant = await fetch(`${origin}/pact/auth/token`, { method: 'POST', body: 'grant_type=password',
    headers: { Authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(grant.status, 400);
  assert.equal((await grant.json()).error, 'unsupported_grant_type');
  const oidc = await pact('GET', '/.well-known/openid-configuration');
  assert.equal(oidc.status, 200);
  assert.equal(oidc.body.token_endpoint, `${origin}/pact/auth/token`);
});

test('get, list and the next link (cases 3, 4, 5, 8)', async () => {
  const { body: { access_token: t } } = await tokenFor(client.client_id, client.client_secret);
  const list = await pact('GET', '/3/footprints', { token: t, headers: { 'Content-Type': 'application/json' } });
  assert.equal(list.status, 200);
  assert.equal(list.body.data.length, 2);
  list.body.data.forEach(assertFootprint);
  const one = await pact('GET', `/3/footprints/${published[0].id}`, { token: t });
  assert.equal(one.status, 200);
  assert.equal(one.body.data.id, published[0].id);
  assertFootprint(one.body.data);
  const page = await pact('GET', '/3/footprints?limit=1', { token: t });
  assert.equal(page.body.data.length, 1);
  const link = page.headers.get('link');
  const m = /^<(.*)>;\s*rel="next"$/.exec(link);
  assert.ok(m, `a next link: ${link}`);
  assert.ok(m[1].startsWith(`${origin}/pact/3/footprints?`), m[1]);
  const next = await fetch(m[1], { headers: { Authorization: `Bearer ${t}` } });
  const second = await next.json();
  assert.equal(second.data.length, 1);
  assert.notEqual(second.data[0].id, page.body.data[0].id);
  assert.equal(next.headers.get('link'), null, 'the last page has no next link');
  const missing = await pact('GET', '/3/footprints/00000000-0000-0000-0000-000000000000', { token: t });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'NotFound');
  assert.match(missing.headers.get('content-type'), /application\/json/);
});

test('an invalid or absent token is 401 in the PACT error format (cases 6, 7, 16)', async () => {
  for (const [method, path, body] of [['GET', '/3/footprints'], ['GET', `/3/footprints/${published[0].id}`],
    ['POST', '/3/events', event('PublishedEvent', { pfIds: [published[0].id] })]]) {
    const r = await pact(method, path, { token: 'very-invalid-access-token', body });
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.body.code, 'BadRequest');
    assert.equal(typeof r.body.message, 'string');
    assert.equal((await pact(method, path, { body })).status, 401);
  }
  // An API key is no PACT token, and a PACT token is no API key.
  assert.equal((await pact('GET', '/3/footprints', { token: owner.key })).status, 401);
  const { body: { access_token: t } } = await tokenFor(client.client_id, client.client_secret);
  assertProblem(await api('GET', '/usage/history', { token: t }), 401);
});

test('events: accepted with 200 and an empty body, audited; a malformed one is 400 (cases 12, 14.A, 15, 40)', async () => {
  const { body: { access_token: t } } = await tokenFor(client.client_id, client.client_secret);
  const cases = [
    event('RequestCreatedEvent', { productId: published[0].productIds, comment: 'Please send the PCF' }, `${run}/12`),
    event('RequestCreatedEvent', { productId: ['urn:pact:null'] }, `${run}/14.A`),
    event('PublishedEvent', { pfIds: ['3a6c14a7-4deb-498a-b5ea-16ce2535b576'] }),
  ];
  for (const e of cases) {
    assert.ok(validEvent(e), JSON.stringify(validEvent.errors));
    const r = await pact('POST', '/3/events', { token: t, body: e });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
  }
  const bad = await pact('POST', '/3/events', { token: t, body: event('PublishedEvent', { pfIds: ['urn:gtin:4712345060507'] }) });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'BadRequest');
  for (const raw of ['not json', '{}', JSON.stringify(event('NoSuchEvent', {}))]) {
    assert.equal((await pact('POST', '/3/events', { token: t, raw, headers: { 'Content-Type': 'application/cloudevents+json' } })).status, 400);
  }
  const chain = await api('GET', `/admin/orgs/${owner.org_id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(chain.body.valid, true, chain.text);
  const received = await d1(`SELECT actor, target FROM audit_log WHERE org_id = '${owner.org_id}' AND action = 'pact.event_received'`);
  assert.equal(received.length, cases.length, 'each accepted event is audited, a refused one is not');
  assert.ok(received.every((e) => e.actor === `pact:${client.client_id}`), JSON.stringify(received));
});

test('every filter, repeated values OR, different ones AND, and their negative cases (20–39)', async () => {
  const { body: { access_token: t } } = await tokenFor(client.client_id, client.client_secret);
  const ids = async (q) => {
    const r = await pact('GET', `/3/footprints?${q}`, { token: t });
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    r.body.data.forEach(assertFootprint);
    return r.body.data.map((p) => p.id).sort();
  };
  const [laptop, monitor] = published;
  const both = [laptop.id, monitor.id].sort();
  assert.deepEqual(await ids(`productId=${laptop.productIds[0]}`), [laptop.id]);
  assert.deepEqual(await ids(`productId=${laptop.productIds[0]}&productId=${monitor.productIds[1]}`), both);
  assert.deepEqual(await ids(`companyId=urn:lei:5493001KJTIIGC8Y1R12`), both);
  assert.deepEqual(await ids(`geography=CN`), [laptop.id]);
  assert.deepEqual(await ids(`geography=cn&geography=VN`), both);
  assert.deepEqual(await ids(`classification=urn:pact:cpc:45270`), [laptop.id]);
  assert.deepEqual(await ids(`validOn=2026-01-01T00:00:00Z`), both);
  assert.deepEqual(await ids(`validAfter=2025-12-31T00:00:00Z`), both);
  assert.deepEqual(await ids(`validBefore=2029-01-02T00:00:00Z`), both);
  assert.deepEqual(await ids(`status=Active`), both);
  assert.deepEqual(await ids(`status=Active&productId=${laptop.productIds[0]}`), [laptop.id]);
  assert.deepEqual(await ids(`companyId=urn:lei:5493001KJTIIGC8Y1R12&companyId=abcdefgh&companyId=ijklmnop`), both);
  for (const q of ['productId=urn:bogus:product:1', 'companyId=urn:bogus:company:1', 'geography=XX', 'classification=urn:bogus:classification:1',
    'validOn=1900-01-01T00:00:00Z', 'validAfter=2099-12-31T23:59:59Z', 'validBefore=1900-01-01T00:00:00Z', 'status=BogusStatus42',
    `companyId=urn:bogus:company:1&productId=urn:bogus:product:1`, 'companyId=a1&companyId=b2&companyId=c3',
    `geography=CN&productId=${monitor.productIds[0]}`]) {
    assert.deepEqual(await ids(q), [], q);
  }
  const bad = await pact('GET', '/3/footprints?validOn=yesterday', { token: t });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'BadRequest');
});

test('re-publishing: a changed footprint is a new version that deprecates the one before; the same one changes nothing', async () => {
  const body = { footprint: { product: { id: 'dell--latitude-5420' } }, product_ids: published[0].productIds, product_name_company: 'Latitude 5420',
    product_description: '14-inch laptop', product_classifications: ['urn:pact:cpc:45270'], geography_country: 'CN',
    reference_period_start: '2025-01-01T00:00:00Z', reference_period_end: '2026-01-01T00:00:00Z' };
  const same = await api('POST', '/pact/footprints', { token: owner.key, body });
  assert.equal(same.status, 200, same.text);
  assert.equal(same.body.unchanged, true);
  assert.equal(same.body.data.id, published[0].id);
  const changed = await api('POST', '/pact/footprints', { token: owner.key, body: { ...body, product_name_company: 'Latitude 5420 (2026)' } });
  assert.equal(changed.status, 201, changed.text);
  assert.deepEqual(changed.body.data.precedingPfIds, [published[0].id]);
  assertFootprint(changed.body.data);
  const { body: { access_token: t } } = await tokenFor(client.client_id, client.client_secret);
  const old = await pact('GET', `/3/footprints/${published[0].id}`, { token: t });
  assert.equal(old.body.data.status, 'Deprecated');
  assertFootprint(old.body.data);
  const active = await pact('GET', `/3/footprints?status=Active&productId=${published[0].productIds[0]}`, { token: t });
  assert.deepEqual(active.body.data.map((p) => p.id), [changed.body.data.id]);
  assert.equal((await pact('GET', '/3/footprints?status=Deprecated', { token: t })).body.data.length, 1);
});

test("publishing needs a profile; another organisation's or the other mode's credentials see nothing; revoked credentials get no token", async () => {
  const other = await createKey('pro', { org: `PACT Other ${run}` });
  assertProblem(await api('POST', '/pact/footprints', { token: other.key, body: { footprint: { category: 'laptop' }, product_ids: ['urn:gtin:1'], product_name_company: 'X' } }), 409, 'pact_profile_required');
  assertProblem(await api('POST', '/pact/footprints', { token: owner.key, body: { footprint: { category: 'laptop' }, certificate_id: 'cert_x', product_ids: ['gtin:1'] } }), 422);
  const theirs = await api('POST', '/pact/clients', { token: other.key, body: {} });
  const { body: { access_token: t } } = await tokenFor(theirs.body.client_id, theirs.body.client_secret);
  assert.deepEqual((await pact('GET', '/3/footprints', { token: t })).body.data, []);
  assert.equal((await pact('GET', `/3/footprints/${published[0].id}`, { token: t })).status, 404);
  // The sandbox: a test key's client reads test footprints only.
  const test = await api('POST', '/keys', { token: owner.key, body: { mode: 'test', role: 'admin' } });
  const tc = await api('POST', '/pact/clients', { token: test.body.key, body: {} });
  assert.equal(tc.body.mode, 'test');
  const { body: { access_token: tt } } = await tokenFor(tc.body.client_id, tc.body.client_secret);
  assert.deepEqual((await pact('GET', '/3/footprints', { token: tt })).body.data, []);
  // Revoked: no new token.
  assert.equal((await api('DELETE', `/pact/clients/${theirs.body.client_id}`, { token: other.key })).status, 200);
  assert.equal((await tokenFor(theirs.body.client_id, theirs.body.client_secret)).body.error, 'invalid_client');
  assertProblem(await api('DELETE', `/pact/clients/${client.client_id}`, { token: other.key }), 404);
  const listed = await api('GET', '/pact/clients', { token: owner.key });
  const mine = listed.body.data.find((c) => c.id === client.client_id);
  assert.ok(mine, 'the client is listed');
  assert.deepEqual(Object.keys(mine).filter((k) => /secret|hash/.test(k)), [], 'never its secret or hash');
});
