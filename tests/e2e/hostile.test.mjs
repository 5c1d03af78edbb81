// Hostile input, as an attacker would send it, through the real worker: every parser bound
// answers a 4xx problem naming the limit, nothing answers 5xx, and the isolate keeps serving
// other requests throughout (no stack overflow in the log).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, BASE } from './harness.mjs';

let ent;
before(async () => {
  ent = await createKey('enterprise', { org: `Hostile Org ${Date.now()}` });
});

const odata = async (path) => {
  const res = await fetch(`${BASE}/api/v1/odata${path}`, { headers: { Authorization: `Bearer ${ent.key}` } });
  return { status: res.status, body: await res.json().catch(() => null) };
};

/** Run `attack` while polling /health; every health check must answer 200. */
async function whileServing(attack) {
  let stop = false;
  const statuses = [];
  const poller = (async () => {
    while (!stop) {
      statuses.push((await fetch(`${BASE}/api/v1/health`)).status);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return await attack();
  } finally {
    stop = true;
    await poller;
    assert.ok(statuses.length > 0);
    assert.deepEqual([...new Set(statuses)], [200], 'the worker kept answering');
  }
}

const upload = (body, type) => api('POST', '/integrations/blancco/sync', { raw: body, headers: { 'Content-Type': type }, token: ent.key });

test('Blancco uploads: 20,000 repeated children, deep nesting, deep JSON: 4xx or a clean answer, never a crash', async () => {
  await whileServing(async () => {
    const repeated = `<root><report>${'<a>1</a>'.repeat(20000)}</report></root>`;
    const r = await upload(repeated, 'application/xml');
    assert.ok(r.status < 500, `repeated children: ${r.status} ${r.text.slice(0, 200)}`);
    const deep = `<root><report>${'<a>'.repeat(5000)}x${'</a>'.repeat(5000)}</report></root>`;
    const p = assertProblem(await upload(deep, 'application/xml'), 400, 'limit_exceeded');
    assert.equal(p.limit, 64);
    assert.equal(p.errors[0].field, 'body');
    const deepJson = `{"reports":[${'['.repeat(5000)}${']'.repeat(5000)}]}`;
    assertProblem(await upload(deepJson, 'application/json'), 400, 'malformed_json');
  });
});

test('OData: a 5,000-deep $filter, a key that is an expression, huge $skip: 4xx, never a crash', async () => {
  await whileServing(async () => {
    const deep = `${'('.repeat(5000)}Model eq 'x'${')'.repeat(5000)}`;
    const r = await odata(`/Assets?$filter=${encodeURIComponent(deep)}`);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.error.message, /limit/);
    const nots = await odata(`/Assets?$filter=${encodeURIComponent('not '.repeat(2000) + "Model eq 'x'")}`);
    assert.equal(nots.status, 400);
    const injected = await odata(`/Certificates(${encodeURIComponent("'a' or Id ne 'b'")})`);
    assert.equal(injected.status, 400, 'a key is one literal, not a filter');
    const skip = await odata('/Assets?$skip=18446744073709551615');
    assert.ok(skip.status === 200 || skip.status === 400, `huge $skip: ${skip.status}`);
    const bigSkip = await odata('/Assets?$skip=4294967295&$top=5');
    assert.equal(bigSkip.status, 200, 'saturates instead of overflowing');
    assert.deepEqual(bigSkip.body.value, []);
  });
});

test('model names as an attacker writes them: estimated or refused by name, never a crash', async () => {
  await whileServing(async () => {
    // Model names become name tokens for the attribute model (families of model numbers).
    const names = ['9'.repeat(200), '１２３ ٣٤٥ ⅷ ǅ1 e\u0301 9 \u0000 7gb7 a1b2c3d4', '-/-/-', 'İ̇99x'.repeat(40)];
    const batch = await api('POST', '/footprint/batch', {
      token: ent.key,
      body: { devices: names.map((model) => ({ category: 'laptop', product: { brand: 'Lenovo', model } })) },
    });
    assert.equal(batch.status, 200, batch.text.slice(0, 300));
    assert.equal(batch.body.summary.succeeded, names.length, batch.text.slice(0, 300));
    for (const r of batch.body.results) {
      assert.equal(r.source, 'model');
      assert.ok(r.total_kg_co2e > 0 && r.uncertainty.confidence === 0.9, JSON.stringify(r).slice(0, 300));
    }
    const long = await api('POST', '/footprint', { token: ent.key, body: { category: 'laptop', product: { brand: 'Lenovo', model: 'x'.repeat(201) } } });
    const p = assertProblem(long, 422);
    assert.equal(p.errors[0].field, 'product.model');
  });
});

test('no stack overflow or panic anywhere in the worker log', () => {
  const log = readFileSync(`${process.env.CT_STATE_DIR}/wrangler.log`, 'utf8');
  assert.doesNotMatch(log, /Maximum call stack size exceeded|RuntimeError: unreachable|panicked at/);
});

test('a chunked body past the limit answers 413 however it is framed', async () => {
  // Transfer-Encoding: chunked and no Content-Length: the worker must count what it reads.
  const chunk = new TextEncoder().encode(`{"category":"laptop","pad":"${'x'.repeat(64 * 1024)}`);
  let sent = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (sent >= 5 * 1024 * 1024) { controller.enqueue(new TextEncoder().encode('"}')); controller.close(); return; }
      controller.enqueue(sent === 0 ? chunk : new TextEncoder().encode('x'.repeat(64 * 1024)));
      sent += 64 * 1024;
    },
  });
  const res = await fetch(`${BASE}/api/v1/footprint`, {
    method: 'POST', body, duplex: 'half', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ent.key}` },
  });
  const p = await res.json();
  assert.equal(res.status, 413);
  assert.equal(p.code, 'payload_too_large');
  // A small chunked body is read whole and answered.
  const small = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{"category":"laptop"}')); c.close(); } });
  const ok = await fetch(`${BASE}/api/v1/footprint`, {
    method: 'POST', body: small, duplex: 'half', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ent.key}` },
  });
  assert.equal(ok.status, 200);
});
