// Clients generated from the OpenAPI document drive a short scenario against the real worker:
// TypeScript (openapi-typescript + openapi-fetch, type-checked with tsc) and Python
// (openapi-python-client). Generation and the type check happen here, from the document the
// worker serves, so a document change that breaks a client breaks this test.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { api, createKey, BASE } from './harness.mjs';

const root = new URL('../../', import.meta.url).pathname;
const out = `${root}target/clients`;
const bin = (name) => `${root}node_modules/.bin/${name}`;
let key;

before(async () => {
  key = (await createKey('pro')).key;
  mkdirSync(out, { recursive: true });
  // The document as served, not as committed.
  const doc = await api('GET', '/openapi.json', { token: null });
  assert.equal(doc.status, 200);
  writeFileSync(`${out}/openapi.json`, doc.text);
});

function run(cmd, args) {
  return execFileSync(cmd, args, { cwd: root, env: { ...process.env, CT_BASE_URL: BASE, CT_KEY: key }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function assertScenario(output) {
  const seen = JSON.parse(output.trim().split('\n').pop());
  assert.ok(seen.total > 0);
  assert.equal(seen.batch, 2);
  assert.match(seen.certificate, /^cert_/);
  assert.equal(seen.valid, true);
  assert.equal(seen.plan, 'pro');
}

test('a TypeScript client (openapi-typescript + openapi-fetch) type-checks and runs the scenario', () => {
  run(bin('openapi-typescript'), [`${out}/openapi.json`, '-o', `${out}/schema.d.ts`]);
  run(bin('tsc'), ['-p', 'tests/clients/tsconfig.json']); // throws with the type errors
  assertScenario(run(process.execPath, ['tests/clients/scenario.mts']));
});

test('a Python client (openapi-python-client) runs the scenario', () => {
  rmSync(`${out}/carbontrace_client`, { recursive: true, force: true });
  run('openapi-python-client', ['generate', '--path', `${out}/openapi.json`, '--output-path', `${out}/carbontrace_client`, '--meta', 'none']);
  assertScenario(run('python3', ['tests/clients/scenario.py']));
});
