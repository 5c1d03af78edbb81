// The one end-to-end harness: every test talks to the real worker under `wrangler dev`
// (started by scripts/test.sh with a fresh state directory) over HTTP, through these helpers.
import assert from 'node:assert/strict';

export const BASE = process.env.CT_BASE_URL;
export const ADMIN_TOKEN = process.env.CT_ADMIN_TOKEN;
if (!BASE) {
  throw new Error('CT_BASE_URL is not set: run the suite through `bash scripts/test.sh`.');
}

let defaultToken;
/** Send this key when a call names no `token` (`token: null` calls anonymously). */
export function useKey(key) { defaultToken = key; }

/** Call the API. `path` is relative to /api/v1. Returns { status, headers, body, text }. */
export async function api(method, path, { body, headers = {}, token, raw } = {}) {
  const h = { ...headers };
  const t = token === undefined ? defaultToken : token;
  if (t) h.Authorization = `Bearer ${t}`;
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

/** Fetch a PDF the API serves at `path` (under /api/v1), check it with qpdf, and return its
 * page count, size and text (pdftotext -layout). */
export async function fetchPdf(path, token) {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const res = await fetch(`${BASE}/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  const buf = Buffer.from(await res.arrayBuffer());
  const file = join(mkdtempSync(join(tmpdir(), 'ct-pdf-')), 'doc.pdf');
  writeFileSync(file, buf);
  execFileSync('qpdf', ['--check', file], { stdio: 'pipe' });
  const pages = Number(execFileSync('qpdf', ['--show-npages', file], { encoding: 'utf8' }).trim());
  return { pages, bytes: buf.length, text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', maxBuffer: 1 << 28 }) };
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

/** Wait until the current UTC minute has at least `s` seconds left, so a burst stays in one window. */
export async function freshMinute(s = 20) {
  const left = 60 - new Date().getUTCSeconds();
  if (left < s) await new Promise((r) => setTimeout(r, left * 1000 + 200));
}

/** Create an API key through the admin route: { id, key, org_id, plan, mode, … }. */
export async function createKey(plan = 'internal', { org = `e2e-${plan}-${Math.random().toString(36).slice(2, 8)}`, mode = 'live' } = {}) {
  const r = await api('POST', '/admin/keys', { body: { org, plan, mode }, token: ADMIN_TOKEN });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

/** Run SQL against the server's local D1 (same state directory) through wrangler. The
 * worker may hold the SQLite file's write lock for a moment (a job writing pages): a busy
 * database is retried, anything else fails with wrangler's own message. */
export async function d1(sql) {
  const { execFileSync } = await import('node:child_process');
  for (let attempt = 1; ; attempt++) {
    try {
      const out = execFileSync('wrangler', ['d1', 'execute', 'DB', '--local', '--persist-to', `${process.env.CT_STATE_DIR}/wrangler`,
        '--json', '--command', sql], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
      return JSON.parse(out)[0].results;
    } catch (e) {
      const why = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      if (attempt < 10 && /SQLITE_BUSY|database is locked/i.test(why)) {
        await new Promise((r) => setTimeout(r, 200 * attempt));
        continue;
      }
      throw new Error(`d1: ${why || e.message}`);
    }
  }
}

/** Sign up for the console: { cookie, csrf, session, email, password } (the session as
 * answered, its cookie's `name=value`, and its CSRF token). */
export async function signUp({ email = `p${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.com`,
  password = 'correct horse battery staple', organisation = `Console Org ${Date.now()} ${Math.random().toString(36).slice(2, 6)}`,
  ip = '203.0.113.200' } = {}) {
  const r = await api('POST', '/auth/signup', { body: { email, password, organisation }, token: null, headers: { 'CF-Connecting-IP': ip } });
  assert.equal(r.status, 201, r.text);
  return { ...personOf(r), email, password, organisation };
}

/** The session a sign-up, sign-in or accepted invitation answered: its cookie and CSRF token. */
export function personOf(r) {
  const set = r.headers.getSetCookie().find((c) => c.startsWith('__Host-ct_session='));
  assert.ok(set, 'a session cookie is set');
  return { cookie: set.split(';')[0], setCookie: set, csrf: r.body.csrf_token, session: r.body };
}

/** Call the API as a signed-in person (as the console does: cookie, same-origin `Origin`, the
 * CSRF token, the mode). Any of them can be left out or replaced to test the rules. */
export function asPerson(p, method, path, { body, mode = 'test', origin = new URL(BASE).origin, csrf = p.csrf, headers = {}, raw } = {}) {
  const h = { Cookie: p.cookie, ...headers };
  if (origin) h.Origin = origin;
  if (csrf) h['X-CSRF-Token'] = csrf;
  if (mode) h['X-CarbonTrace-Mode'] = mode;
  return api(method, path, { body, raw, token: null, headers: h });
}
