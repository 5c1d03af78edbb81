// Blancco: upload XML and JSON erasure reports, re-sync without duplicates, read the assets
// back (through a report from stored assets), and pull from a fake Blancco cloud started here
// (cursor pagination, 204, 401, 429, 5xx).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, d1, eventually, BASE } from './harness.mjs';

const BLANCCO_URL = `http://127.0.0.1:${process.env.CT_BLANCCO_PORT}/v1`;
const fixture = (name) => readFileSync(new URL(`../../fixtures/blancco/${name}`, import.meta.url), 'utf8');
const batch = JSON.parse(fixture('batch.json'));
let org;
let server;
const calls = [];

/** A report like the fixtures', with its own document id. */
function report(docId, model = 'Latitude 5420', state = 'Successful') {
  return { blancco_data: {
    description: { document_id: docId },
    blancco_hardware_report: { system: [{ manufacturer: 'Dell Inc.' }, { model }, { chassis_type: 'Notebook' }], memory: [{ total_memory: 8589934592 }] },
    blancco_erasure_report: { erasures: [{ erasure: [{ state }, { erasure_standard_name: 'NIST 800-88 Purge' }] }] } } };
}

before(async () => {
  org = await createKey('business', { org: `ITAD e2e ${Date.now()}` });
  let throttled = 0;
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const body = JSON.parse(raw || '{}');
      calls.push({ path: req.url, key: req.headers['x-blancco-api-key'], body });
      const send = (status, obj, headers = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(obj === undefined ? '' : JSON.stringify(obj));
      };
      if (req.url !== '/v1/report/export' || req.method !== 'POST') return send(404, { error: 'no route' });
      if (req.headers['x-blancco-api-key'] !== 'e2e-blancco-key') return send(401, { error: 'bad key' });
      const scenario = body.filter?.fields?.[0]?.like;
      switch (scenario) {
        case 'paged':
          if (!body.cursor) return send(200, { reports: [report('pull-1'), report('pull-2')] }, { 'X-BLANCCO-CURSOR': 'c1' });
          if (body.cursor === 'c1') return send(200, { reports: [report('pull-3', 'OptiPlex 7090 Tower')] }, { 'X-BLANCCO-CURSOR': 'c2' });
          return send(200, { reports: [report('pull-4', 'Latitude 5420', 'Failed')] });
        case 'none': return send(204);
        case 'oversize': return send(200, { reports: Array.from({ length: 11 }, (_, i) => report(`oversize-${i}`)) });
        case 'many': {
          const n = Number((body.cursor ?? 'm0').slice(1));
          const page = Array.from({ length: 10 }, (_, i) => report(`many-${n}-${i}`));
          return send(200, { reports: page }, n < 5 ? { 'X-BLANCCO-CURSOR': `m${n + 1}` } : {});
        }
        case 'throttled':
          throttled += 1;
          return throttled === 1 ? send(429, { error: 'slow down' }) : send(200, { reports: [report('pull-throttled')] });
        case 'broken': return send(503, { error: 'down' });
        case 'denied': return send(403, { error: 'forbidden' });
        default: return send(200, { reports: [] });
      }
    });
  });
  await new Promise((r) => server.listen(Number(process.env.CT_BLANCCO_PORT), '127.0.0.1', r));
  // The organisation's own Blancco account (sealed at rest; pulls use nothing else).
  const put = await api('PUT', '/integrations/blancco', { body: { api_url: BLANCCO_URL, api_key: 'e2e-blancco-key' }, token: org.key });
  assert.equal(put.status, 200, put.text);
});
after(() => server.close());

async function upload(body, contentType, token = org.key) {
  const res = await fetch(`${BASE}/api/v1/integrations/blancco/sync`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

test('XML and JSON uploads import erased devices with their avoided emissions', async () => {
  const x = await upload(fixture('laptop.xml'), 'application/xml');
  assert.equal(x.status, 200, x.text);
  assert.equal(x.body.imported, 1);
  const dev = x.body.devices[0];
  assert.equal(dev.document_id, '6f1c2a9e-0d4b-4c51-9a57-1b2c3d4e5f60');
  assert.equal(dev.product_id, 'dell--latitude-5420', 'identified in the catalogue');
  assert.equal(dev.ram_gb, 16);
  assert.ok(dev.avoided_kg_co2e > 0);
  // The avoided emissions are those of /savings for the same device.
  const s = await api('POST', '/savings', { body: { device: { product: { id: 'dell--latitude-5420' } }, scenario: 'reuse' }, token: org.key });
  assert.equal(dev.avoided_kg_co2e, s.body.avoided_kg_co2e);

  const j = await upload(JSON.stringify(batch), 'application/json');
  assert.equal(j.status, 200, j.text);
  assert.equal(j.body.imported, 2, 'server and phone');
  const server = j.body.devices.find((d) => d.category === 'server');
  assert.equal(server.storage_gb, 1920);
  assert.equal(j.body.skipped.length, 1);
  assert.match(j.body.skipped[0].reason, /not successful \(Failed\)/);
  assert.equal(j.body.failed.length, 1);
  assert.match(j.body.failed[0].reason, /system.model/);
  assert.ok(Math.abs(j.body.total_avoided_kg_co2e - j.body.devices.reduce((a, d) => a + d.avoided_kg_co2e, 0)) < 0.02);

  const desk = await upload(fixture('desktop.xml'), 'text/xml');
  assert.equal(desk.body.devices[0].category, 'desktop');
});

test('a re-sync adds nothing twice and says so; the assets can be read back', async () => {
  const again = await upload(fixture('laptop.xml'), 'application/xml');
  assert.equal(again.status, 200);
  assert.equal(again.body.imported, 0);
  assert.equal(again.body.duplicates, 1);
  assert.equal(again.body.devices[0].status, 'duplicate');
  assert.equal(again.body.total_avoided_kg_co2e, 0, 'duplicates are not credited twice');
  const rows = await d1(`SELECT document_id, category, product_id FROM assets WHERE org_id = '${org.org_id}' ORDER BY document_id`);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows.map((r) => r.category).sort(), ['desktop', 'laptop', 'server', 'smartphone']);
  // The stored assets feed a report.
  const r = await api('POST', '/reports', { body: { type: 'sustainability', source: 'assets' }, token: org.key });
  const done = await eventually(async () => {
    const s = await api('GET', `/reports/${r.body.id}`, { token: org.key });
    return ['done', 'failed'].includes(s.body.status) ? s.body : null;
  }, { ms: 60000, what: 'assets report' });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.summary.devices, 4);
});

test('malformed uploads are 4xx with nothing imported; huge uploads are refused', async () => {
  const bad = await upload(fixture('malformed.xml'), 'application/xml');
  assertProblem(bad, 400, 'malformed_xml');
  assert.equal(bad.body.errors[0].field, 'body');
  assertProblem(await upload('{"reports": [', 'application/json'), 400, 'malformed_json');
  assertProblem(await upload('x', 'text/csv'), 415);
  const many = { reports: Array.from({ length: 501 }, (_, i) => report(`bulk-${i}`)) };
  assertProblem(await upload(JSON.stringify(many), 'application/json'), 413, 'too_many_reports');
  const [{ n }] = await d1(`SELECT COUNT(*) AS n FROM assets WHERE document_id LIKE 'bulk-%'`);
  assert.equal(n, 0);
  assertProblem(await upload(fixture('laptop.xml'), 'application/xml', 'ct_live_' + '0'.repeat(40)), 401);
});

test('a pull follows the cursor page by page, as a queue job', async () => {
  const r = await api('POST', '/integrations/blancco/sync', { body: { since: '2026-01-01T00:00:00Z', filter: { fields: [{ name: '@custom-Order Number', like: 'paged' }] } }, token: org.key });
  assert.equal(r.status, 202, r.text);
  const job = await eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${r.body.id}`, { token: org.key });
    return ['done', 'failed'].includes(s.body.status) ? s.body : null;
  }, { ms: 30000, what: 'pull job' });
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.pages, 3);
  assert.equal(job.result.imported, 3);
  assert.equal(job.result.skipped.length, 1);
  const mine = calls.filter((c) => c.body.filter?.fields?.[0]?.like === 'paged');
  assert.deepEqual(mine.map((c) => c.body.cursor ?? null), [null, 'c1', 'c2']);
  assert.equal(mine[0].key, 'e2e-blancco-key');
  assert.equal(mine[0].body.filter.date.gte, '2026-01-01T00:00:00Z');
  assert.equal(mine[0].body.container, 'NONE');
  // Pulling again imports nothing new.
  const again = await api('POST', '/integrations/blancco/sync', { body: { since: '2026-01-01T00:00:00Z', filter: { fields: [{ name: '@custom-Order Number', like: 'paged' }] } }, token: org.key });
  const job2 = await eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${again.body.id}`, { token: org.key });
    return s.body.status === 'done' ? s.body : null;
  }, { ms: 30000, what: 'second pull' });
  assert.equal(job2.result.imported, 0);
  assert.equal(job2.result.duplicates, 3);
});

test('pulls: 204 is nothing new, 401/403 fail the job, 429 is retried to done, endless 5xx reach the dead-letter queue', async () => {
  const start = async (like) => (await api('POST', '/integrations/blancco/sync', {
    body: { since: '2026-01-01T00:00:00Z', filter: { fields: [{ name: '@custom-x', like }] } }, token: org.key })).body.id;
  const wait = (id, pred) => eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${id}`, { token: org.key });
    return pred(s.body) ? s.body : null;
  }, { ms: 30000, what: `job ${id}` });
  const none = await wait(await start('none'), (b) => b.status === 'done');
  assert.equal(none.pages, 0);
  const denied = await wait(await start('denied'), (b) => b.status === 'failed');
  assert.match(denied.reason, /rejected the API key/);
  assert.equal(denied.attempts, 1, 'a permanent error is not retried');
  const throttled = await wait(await start('throttled'), (b) => b.status === 'done');
  assert.equal(throttled.result.imported, 1);
  assert.equal(throttled.attempts, 2, 'a transient error is retried, and the retry finishes the job');
  // 503 for ever: retried with back-off (queued, saying why), then the queue gives up and the
  // dead-letter consumer fails the job with the last reason.
  const brokenId = await start('broken');
  const retrying = await wait(brokenId, (b) => /503/.test(b.reason ?? ''));
  assert.notEqual(retrying.status, 'failed', 'retried by the queue, not given up at once');
  const broken = await eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${brokenId}`, { token: org.key });
    return s.body.status === 'failed' ? s.body : null;
  }, { ms: 60000, every: 2000, what: 'dead-lettered pull' }); // slow polls: the plan allows 100 requests a minute
  assert.match(broken.reason, /^gave up after 5 attempt\(s\): Blancco answered 503/);
  assert.equal(broken.attempts, 5);
  const [entry] = await d1(`SELECT actor, details FROM audit_log WHERE org_id = '${org.org_id}' AND action = 'blancco.pull.failed' AND target = '${brokenId}'`);
  assert.equal(entry.actor, 'system');
  assert.equal(JSON.parse(entry.details).via, 'dead_letter');
  const p = assertProblem(await api('POST', '/integrations/blancco/sync', { body: { since: 'yesterday', colour: 1 }, token: org.key }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['colour', 'since']);
});

test('a pull is metered per report against the organisation\'s day and stops cleanly, audited, at the quota', async () => {
  const free = await createKey('free', { org: `ITAD Free ${Date.now()}` });
  assert.equal((await api('PUT', '/integrations/blancco', { body: { api_url: BLANCCO_URL, api_key: 'e2e-blancco-key' }, token: free.key })).status, 200);
  const r = await api('POST', '/integrations/blancco/sync', { body: { since: '2026-01-01T00:00:00Z', filter: { fields: [{ name: '@custom-x', like: 'many' }] } }, token: free.key });
  assert.equal(r.status, 202, r.text);
  const job = await eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${r.body.id}`, { token: free.key });
    return s.body.status === 'done' ? s.body : null;
  }, { ms: 30000, every: 3000, what: 'metered pull' }); // Free: 5 requests a minute
  // 25 a day, one spent on the sync request: two pages of 10 fit, the third does not.
  assert.equal(job.result.imported, 20, JSON.stringify(job.result));
  assert.match(job.result.stopped, /daily quota/);
  const [entry] = await d1(`SELECT details FROM audit_log WHERE org_id = '${free.org_id}' AND action = 'blancco.pull.completed' AND target = '${r.body.id}'`);
  assert.match(JSON.parse(entry.details).stopped, /daily quota/);
  const started = await d1(`SELECT COUNT(*) AS n FROM audit_log WHERE org_id = '${free.org_id}' AND action = 'blancco.pull_requested' AND target = '${r.body.id}'`);
  assert.equal(started[0].n, 1, 'the start of a pull is audited');
  // 1 (the sync) + 20 (reports) + the status polls above are today's; at most 4 are left.
  const usage = await api('GET', '/usage', { token: free.key });
  assert.ok(usage.body.remaining.today <= 4, JSON.stringify(usage.body.remaining));
});

test('a page holding more reports than asked for is refused whole', async () => {
  const r = await api('POST', '/integrations/blancco/sync', { body: { since: '2026-01-01T00:00:00Z', filter: { fields: [{ name: '@custom-x', like: 'oversize' }] } }, token: org.key });
  const job = await eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${r.body.id}`, { token: org.key });
    return s.body.status === 'failed' ? s.body : null;
  }, { ms: 30000, what: 'oversize pull' });
  assert.match(job.reason, /11 reports for a page of 10/);
  const [{ n }] = await d1(`SELECT COUNT(*) AS n FROM assets WHERE org_id = '${org.org_id}' AND document_id LIKE 'oversize-%'`);
  assert.equal(n, 0);
});

test('sandbox: computed answer, nothing stored', async () => {
  const sb = await createKey('pro', { mode: 'test' });
  const r = await upload(fixture('desktop.xml'), 'application/xml', sb.key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body._sandbox, true);
  assert.equal(r.body.imported, 1);
  const [{ n }] = await d1(`SELECT COUNT(*) AS n FROM assets WHERE org_id = '${sb.org_id}'`);
  assert.equal(n, 0);
});

test('Blancco credentials are per organisation, sealed at rest, and the only ones a pull uses', async () => {
  const g = await api('GET', '/integrations/blancco', { token: org.key });
  assert.deepEqual([g.body.configured, g.body.api_url, g.body.api_key_last4], [true, BLANCCO_URL, '-key']);
  assert.ok(!('api_key' in g.body), 'the key is never shown again');
  const [row] = await d1(`SELECT * FROM integration_credentials WHERE org_id = '${org.org_id}'`);
  assert.ok(!JSON.stringify(row).includes('e2e-blancco-key'), 'never in clear in D1');
  assert.ok(row.ciphertext.length > 20 && row.kek_id);
  // Another organisation, without credentials: 409, and it can never borrow ours.
  const other = await createKey('business', { org: `ITAD other ${Date.now()}` });
  const pull = { since: '2026-01-01T00:00:00Z', filter: { fields: [{ name: '@custom-Order Number', like: 'paged' }] } };
  assertProblem(await api('POST', '/integrations/blancco/sync', { body: pull, token: other.key }), 409, 'blancco_not_configured');
  // With its own (wrong for this account) key, the same filter imports nothing of ours.
  assert.equal((await api('PUT', '/integrations/blancco', { body: { api_url: BLANCCO_URL, api_key: 'other-org-key' }, token: other.key })).status, 200);
  const r = await api('POST', '/integrations/blancco/sync', { body: pull, token: other.key });
  assert.equal(r.status, 202, r.text);
  const job = await eventually(async () => {
    const s = await api('GET', `/integrations/blancco/sync/${r.body.id}`, { token: other.key });
    return s.body.status === 'failed' ? s.body : null;
  }, { ms: 30000, what: 'foreign pull' });
  assert.match(job.reason, /rejected the API key/);
  assert.equal(calls.at(-1).key, 'other-org-key', 'the pull went out with its own key');
  const [{ n }] = await d1(`SELECT COUNT(*) AS n FROM assets WHERE org_id = '${other.org_id}'`);
  assert.equal(n, 0);
  // The filter may only name listed fields; the date bound is ours.
  const bad = assertProblem(await api('POST', '/integrations/blancco/sync', { body: { since: '2026-01-01T00:00:00Z', filter: { date: { gte: '1970-01-01' } } }, token: org.key }), 422);
  assert.equal(bad.errors[0].field, 'filter.date');
  // Removed: pulls are refused again; a test key cannot set them.
  assert.equal((await api('DELETE', '/integrations/blancco', { token: other.key })).body.removed, true);
  assertProblem(await api('POST', '/integrations/blancco/sync', { body: pull, token: other.key }), 409, 'blancco_not_configured');
  const sb = await createKey('pro', { mode: 'test' });
  assertProblem(await api('PUT', '/integrations/blancco', { body: { api_url: BLANCCO_URL, api_key: 'e2e-blancco-key' }, token: sb.key }), 400, 'sandbox_not_supported');
  assertProblem(await api('PUT', '/integrations/blancco', { body: { api_url: 'http://evil.example', api_key: 'x' }, token: org.key }), 422);
});
