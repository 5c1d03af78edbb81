// The one end-to-end harness: every test talks to the real worker under `wrangler dev`
// (started by scripts/test.sh with a fresh state directory) over HTTP, through these helpers.
import assert from 'node:assert/strict';

export const BASE = process.env.CT_BASE_URL;
export const ADMIN_TOKEN = process.env.CT_ADMIN_TOKEN;
if (!BASE) {
  throw new Error('CT_BASE_URL is not set: run the suite through `bash scripts/test.sh`.');
}

/** Call the API. `path` is relative to /api/v1. Returns { status, headers, body, text }. */
export async function api(method, path, { body, headers = {}, token, raw } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${BASE}/api/v1${path}`, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

/** Assert a problem+json response with the given status (and code), and return its body. */
export function assertProblem(res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const p = res.body;
  for (const k of ['type', 'title', 'status', 'code', 'request_id']) assert.ok(k in p, `problem lacks ${k}`);
  assert.equal(p.status, status);
  assert.equal(p.request_id, res.headers.get('x-request-id'));
  if (code) assert.equal(p.code, code);
  return p;
}

/** Poll `fn` until it returns a truthy value or `ms` elapse. */
export async function eventually(fn, { ms = 15000, every = 250, what = 'condition' } = {}) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
