// Walking skeleton: health, the five bindings from inside the worker, OpenAPI, routing errors,
// CORS and request ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { api, assertProblem, eventually, ADMIN_TOKEN } from './harness.mjs';

test('health is public and names the service and versions', async () => {
  const r = await api('GET', '/health');
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  assert.equal(r.body.service, 'carbontrace');
  assert.match(r.body.version, /^\d+\.\d+\.\d+/);
  assert.ok(r.body.methodology_version);
  assert.equal(r.body.checks, undefined, 'no deep check without the admin token');
  assert.match(r.headers.get('x-request-id'), /^req_[0-9a-f]{24}$/);
});

test('a wrong admin token gets no deep check', async () => {
  const r = await api('GET', '/health', { token: 'adm_wrong' });
  assert.equal(r.status, 200);
  assert.equal(r.body.checks, undefined);
});

test('deep health touches KV, D1, the Durable Object, R2 and the Queue; the consumer sees the probe', async () => {
  const r = await api('GET', '/health', { token: ADMIN_TOKEN });
  assert.equal(r.status, 200, r.text);
  const c = r.body.checks;
  for (const b of ['kv', 'd1', 'durable_object', 'r2', 'queue']) {
    assert.equal(c[b].ok, true, `${b}: ${JSON.stringify(c[b])}`);
  }
  // Every migration ran: the version is the number of the newest one.
  const newest = readdirSync(new URL('../../migrations', import.meta.url)).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort().at(-1);
  assert.equal(c.d1.schema_version, String(Number(newest.slice(0, 4))));
  assert.match(c.kv.wrote_and_read, /^[0-9a-f]{16}$/);
  // Durable Object state persists between calls: the ping count grows.
  const again = await api('GET', '/health', { token: ADMIN_TOKEN });
  assert.ok(again.body.checks.durable_object.pings > c.durable_object.pings);
  // The queue consumer records the probe it received.
  const probe = c.queue.sent_probe;
  const seen = await eventually(async () => {
    const s = await api('GET', `/health?queue_probe=${probe}`, { token: ADMIN_TOKEN });
    return s.body.queue_probe?.consumed ? s.body.queue_probe : null;
  }, { what: `queue probe ${probe} to be consumed` });
  assert.equal(seen.id, probe);
  assert.ok(!Number.isNaN(Date.parse(seen.consumed_at)));
});

test('HEAD answers like GET without a body', async () => {
  const r = await api('HEAD', '/health');
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
  assert.ok(r.headers.get('x-request-id'));
});

test('unknown routes are 404 and wrong methods 405, as problem+json', async () => {
  const nf = assertProblem(await api('GET', '/nope'), 404, 'not_found');
  assert.match(nf.type, /^https:\/\/carbontrace\.cloud\/problems\/not_found$/);
  assertProblem(await api('GET', '/../health'), 404);
  const r = await api('DELETE', '/health');
  const p = assertProblem(r, 405, 'method_not_allowed');
  assert.equal(r.headers.get('allow'), 'GET, HEAD, OPTIONS');
  assert.deepEqual(p.allowed, ['GET', 'HEAD', 'OPTIONS']);
});

test('a safe caller request id is echoed, an unsafe one replaced', async () => {
  const ok = await api('GET', '/health', { headers: { 'X-Request-Id': 'trace-42_abc' } });
  assert.equal(ok.headers.get('x-request-id'), 'trace-42_abc');
  const bad = await api('GET', '/health', { headers: { 'X-Request-Id': 'a b<script>' } });
  assert.match(bad.headers.get('x-request-id'), /^req_/);
});

test('CORS preflight and headers for browsers and Swagger UI', async () => {
  const r = await api('OPTIONS', '/footprint', {
    headers: { Origin: 'https://example.org', 'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type' },
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.match(r.headers.get('access-control-allow-methods'), /POST/);
  assert.match(r.headers.get('access-control-allow-headers'), /Authorization/);
  const g = await api('GET', '/health', { headers: { Origin: 'https://example.org' } });
  assert.equal(g.headers.get('access-control-allow-origin'), '*');
  assert.match(g.headers.get('access-control-expose-headers'), /X-Request-Id/);
});

test('the OpenAPI document is valid OpenAPI 3.1 and lists the served routes', async () => {
  const r = await api('GET', '/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.body.openapi, /^3\.1\./);
  const v = new Validator();
  const res = await v.validate(r.body);
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1));
  assert.ok(r.body.paths['/health'].get);
});
