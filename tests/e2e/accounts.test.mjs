// Console accounts and sessions over HTTP (the pages themselves: console.test.mjs): sign-up
// makes an organisation, its owner and a working sandbox key; the session cookie has every
// attribute; a cookie without the CSRF token or from another origin changes nothing; members
// manage nothing; another organisation's objects are 404 through a session as through a key;
// signing out and changing the password end sessions; wrong passwords slow the guesser and
// never lock the owner out; live mode waits for a confirmed email. Each test signs up
// organisations and uses client addresses of its own (documentation ranges).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, asPerson, assertProblem, d1, eventually, freshMinute, personOf, signUp, ADMIN_TOKEN } from './harness.mjs';

test('sign-up: an organisation, its owner, a sandbox key that works, and a cookie with every attribute', async () => {
  const p = await signUp({ ip: '203.0.113.1' });
  const s = p.session;
  assert.equal(s.role, 'owner');
  assert.equal(s.organisation.plan, 'free');
  assert.deepEqual(s.modes, ['test']);
  assert.equal(s.user.email_verified, false);
  assert.match(s.key.key, /^ct_test_[0-9a-f]{40}$/);
  const attrs = p.setCookie.split(';').map((a) => a.trim());
  for (const a of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/']) assert.ok(attrs.includes(a), `${a} in ${p.setCookie}`);
  assert.ok(!attrs.some((a) => /^domain=/i.test(a)), 'a __Host- cookie has no Domain');
  assert.match(p.cookie, /^__Host-ct_session=cts_[0-9a-f]{64}$/);
  // The key is shown once and calls the API in the sandbox.
  const fp = await api('POST', '/footprint', { body: { category: 'laptop' }, token: s.key.key });
  assert.equal(fp.status, 200);
  assert.equal(fp.headers.get('x-carbontrace-mode'), 'sandbox');
  // The session reads who it is, the keys, and the usage.
  const me = await asPerson(p, 'GET', '/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.organisation.id, s.organisation.id);
  assert.equal(me.body.csrf_token, p.csrf);
  assert.equal(me.headers.get('cache-control'), 'no-store');
  const keys = await asPerson(p, 'GET', '/keys');
  assert.deepEqual(keys.body.data.map((k) => k.id), [s.key.id]);
  assert.equal(keys.body.data[0].key, undefined, 'never the secret again');
  const usage = await eventually(async () => {
    const u = await asPerson(p, 'GET', '/usage/history?days=7');
    return u.body.days.at(-1).test >= 1 && u;
  }, { what: 'the sandbox call in the usage history' });
  assert.equal(usage.body.days.length, 7);
  const now = await asPerson(p, 'GET', '/usage');
  assert.equal(usage.body.limits.per_day, now.body.limits.per_day);
  assert.equal(now.body.plan, 'free');
  // A person reading their own organisation's pages is not metered.
  for (let i = 0; i < 3; i++) assert.equal((await asPerson(p, 'GET', '/certificates')).status, 200);
  assert.equal((await asPerson(p, 'GET', '/usage')).body.used.today, now.body.used.today);
  // Unconfirmed: live mode is refused, and a test-mode session makes test keys only.
  assertProblem(await asPerson(p, 'GET', '/keys', { mode: 'live' }), 403, 'email_unverified');
  assertProblem(await asPerson(p, 'POST', '/keys', { body: { mode: 'live' } }), 422);
  assertProblem(await asPerson(p, 'GET', '/keys', { mode: 'staging' }), 400, 'invalid_mode');
  // Audit: the person is the actor.
  const chain = await api('GET', `/admin/orgs/${s.organisation.id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(chain.body.valid, true, chain.text);
  const signedUp = await d1(`SELECT actor FROM audit_log WHERE org_id = '${s.organisation.id}' AND action = 'account.signed_up'`);
  assert.deepEqual(signedUp.map((e) => e.actor), [`user:${s.user.id}`]);
});

test('sign-up refuses bad fields by name and a taken email or name with 409', async () => {
  const bad = await api('POST', '/auth/signup', { body: { email: 'nope', password: 'short', organisation: '' }, token: null, headers: { 'CF-Connecting-IP': '203.0.113.2' } });
  const p = assertProblem(bad, 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['email', 'organisation', 'password']);
  const first = await signUp({ ip: '203.0.113.2' });
  const again = await api('POST', '/auth/signup', { body: { email: first.email.toUpperCase(), password: 'another long password', organisation: 'Another name' }, token: null, headers: { 'CF-Connecting-IP': '203.0.113.2' } });
  assert.equal(assertProblem(again, 409, 'already_exists').field, 'email');
  const name = await api('POST', '/auth/signup', { body: { email: `n${Date.now()}@example.com`, password: 'another long password', organisation: first.organisation }, token: null, headers: { 'CF-Connecting-IP': '203.0.113.2' } });
  assert.equal(assertProblem(name, 409, 'already_exists').field, 'organisation');
  assertProblem(await api('POST', '/auth/signup', { body: { email: 'a@b.co', password: 'x'.repeat(20), organisation: 'X', admin: true }, token: null }), 400);
  // A name that reorders itself on screen (it is the issuer certificate verification shows).
  const bidi = await api('POST', '/auth/signup', { body: { email: `b${Date.now()}@example.com`, password: 'x'.repeat(20), organisation: 'Dell\u202eTechnologies' }, token: null });
  assert.deepEqual(assertProblem(bidi, 422).errors.map((e) => e.field), ['organisation']);
  // Sessions start from this origin's pages only (no login CSRF from another site).
  const foreign = await api('POST', '/auth/login', { body: { email: first.email, password: first.password }, token: null, headers: { Origin: 'https://evil.example' } });
  assertProblem(foreign, 403, 'cross_origin_session');
  assert.equal(foreign.headers.getSetCookie().length, 0);
});

test('a cookie without the CSRF token, without Origin, or from another origin changes nothing (403)', async () => {
  const p = await signUp({ ip: '203.0.113.3' });
  const count = async () => (await asPerson(p, 'GET', '/keys')).body.data.length;
  const before = await count();
  assertProblem(await asPerson(p, 'POST', '/keys', { body: {}, csrf: null }), 403, 'csrf_token_invalid');
  assertProblem(await asPerson(p, 'POST', '/keys', { body: {}, csrf: 'f'.repeat(48) }), 403, 'csrf_token_invalid');
  assertProblem(await asPerson(p, 'POST', '/keys', { body: {}, origin: 'https://evil.example' }), 403, 'cross_origin_session');
  assertProblem(await asPerson(p, 'POST', '/keys', { body: {}, origin: null }), 403, 'origin_required');
  assertProblem(await asPerson(p, 'DELETE', `/keys/${p.session.key.id}`, { csrf: null }), 403, 'csrf_token_invalid');
  assertProblem(await asPerson(p, 'POST', '/auth/logout', { csrf: null }), 403, 'csrf_token_invalid');
  // Reads from another origin, or what the browser marks cross-site, are refused too.
  assertProblem(await asPerson(p, 'GET', '/keys', { origin: 'https://evil.example' }), 403, 'cross_origin_session');
  assertProblem(await asPerson(p, 'GET', '/auth/me', { origin: null, headers: { 'Sec-Fetch-Site': 'cross-site' } }), 403, 'cross_origin_session');
  assert.equal(await count(), before, 'no key was made');
  const keys = await asPerson(p, 'GET', '/keys');
  assert.equal(keys.body.data[0].revoked_at, null, 'nothing was revoked');
  // With the token and its own origin the same request works.
  const made = await asPerson(p, 'POST', '/keys', { body: { name: 'from the console' } });
  assert.equal(made.status, 201, made.text);
  assert.match(made.body.key, /^ct_test_/);
  // A route anyone may call ignores the cookie: the docs page's "Try it out" stays anonymous.
  const anon = await asPerson(p, 'POST', '/footprint', { body: { category: 'laptop' }, csrf: null });
  assert.equal(anon.status, 200);
  assert.equal(anon.headers.get('x-carbontrace-mode'), 'live');
});

test("another organisation's objects are 404 through a session as through a key", async () => {
  const a = await signUp({ ip: '203.0.113.4' });
  const b = await signUp({ ip: '203.0.113.4' });
  // Certificates are live objects (the sandbox answers a fixture and stores nothing).
  await api('POST', `/admin/users/${encodeURIComponent(a.email)}/verify`, { token: ADMIN_TOKEN });
  const liveKey = await asPerson(a, 'POST', '/keys', { body: { mode: 'live' }, mode: 'live' });
  assert.equal(liveKey.status, 201, liveKey.text);
  const cert = await api('POST', '/certificates', { body: { footprint: { category: 'laptop' } }, token: liveKey.body.key });
  assert.equal(cert.status, 201, cert.text);
  const mine = await asPerson(a, 'GET', '/certificates', { mode: 'live' });
  assert.deepEqual(mine.body.data.map((c) => c.id), [cert.body.id]);
  assert.match(mine.body.data[0].pdf_url, /format=pdf$/);
  assertProblem(await asPerson(b, 'GET', `/certificates/${cert.body.id}`), 404);
  assertProblem(await api('GET', `/certificates/${cert.body.id}`, { token: b.session.key.key }), 404);
  assertProblem(await asPerson(b, 'DELETE', `/certificates/${cert.body.id}`), 404);
  assertProblem(await asPerson(b, 'DELETE', `/keys/${a.session.key.id}`), 404);
  assert.deepEqual((await asPerson(b, 'GET', '/certificates')).body.data, []);
  // The sandbox of one's own organisation is another tenant too.
  assertProblem(await asPerson(a, 'GET', `/certificates/${cert.body.id}`), 404);
  assert.deepEqual((await asPerson(a, 'GET', '/certificates')).body.data, []);
  // And the PDF comes through the session (a GET needs no CSRF token).
  const pdf = await fetch(`${new URL(mine.body.data[0].pdf_url, process.env.CT_BASE_URL)}`, { headers: { Cookie: a.cookie, 'X-CarbonTrace-Mode': 'live' } });
  assert.equal(pdf.status, 200);
  assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
});

test('members: the owner invites by a one-time link; a member manages no keys and no members', async () => {
  const owner = await signUp({ ip: '203.0.113.5' });
  const email = `m${Date.now()}@example.com`;
  const inv = await asPerson(owner, 'POST', '/members/invites', { body: { email } });
  assert.equal(inv.status, 201, inv.text);
  const token = new URLSearchParams(new URL(inv.body.invite_url).hash.split('?')[1]).get('token');
  assert.match(token, /^ctinv_[0-9a-f]{64}$/);
  const listed = await asPerson(owner, 'GET', '/members');
  assert.deepEqual(listed.body.invites.map((i) => i.email), [email]);
  assert.equal(listed.body.invites[0].invite_url, undefined, 'the link is shown once');
  const joined = await api('POST', '/auth/accept-invite', { body: { token, password: 'member password 123' }, token: null });
  assert.equal(joined.status, 201, joined.text);
  const member = personOf(joined);
  assert.equal(member.session.role, 'member');
  assert.equal(member.session.organisation.id, owner.session.organisation.id);
  assert.equal(member.session.user.email_verified, false, 'the inviter held the link too: joining confirms no email');
  assertProblem(await asPerson(member, 'GET', '/certificates', { mode: 'live' }), 403, 'email_unverified');
  assertProblem(await api('POST', '/auth/accept-invite', { body: { token, password: 'member password 123' }, token: null }), 404);
  assertProblem(await asPerson(member, 'POST', '/keys', { body: {} }), 403, 'admin_role_required');
  assertProblem(await asPerson(member, 'GET', '/keys'), 403, 'admin_role_required');
  assertProblem(await asPerson(member, 'POST', '/members/invites', { body: { email: 'x@example.com' } }), 403, 'owner_required');
  assertProblem(await asPerson(member, 'DELETE', `/members/${owner.session.user.id}`), 403, 'owner_required');
  assert.equal((await asPerson(member, 'GET', '/certificates')).status, 200, 'members use the console');
  assert.equal((await asPerson(member, 'GET', '/members')).body.data.length, 2);
  // The owner removes the member: their session ends at once.
  assertProblem(await asPerson(owner, 'DELETE', `/members/${owner.session.user.id}`), 404);
  const removed = await asPerson(owner, 'DELETE', `/members/${member.session.user.id}`);
  assert.equal(removed.status, 200);
  assertProblem(await asPerson(member, 'GET', '/auth/me'), 401, 'session_expired');
  // Their account went with them: the same email can be invited again and join.
  const again = await asPerson(owner, 'POST', '/members/invites', { body: { email } });
  assert.equal(again.status, 201, again.text);
  const token2 = new URLSearchParams(new URL(again.body.invite_url).hash.split('?')[1]).get('token');
  const rejoined = await api('POST', '/auth/accept-invite', { body: { token: token2, password: 'member password 456' }, token: null });
  assert.equal(rejoined.status, 201, rejoined.text);
  // An invitation for an email that has an account is made (nothing is told to the owner)
  // and fails when accepted.
  const taken = await asPerson(owner, 'POST', '/members/invites', { body: { email: owner.email } });
  assert.equal(taken.status, 201);
  const token3 = new URLSearchParams(new URL(taken.body.invite_url).hash.split('?')[1]).get('token');
  assertProblem(await api('POST', '/auth/accept-invite', { body: { token: token3, password: 'member password 789' }, token: null }), 409, 'already_exists');
});

test('signing out and changing the password end sessions', async () => {
  const p = await signUp({ ip: '203.0.113.6' });
  const login = async (password, ip = '203.0.113.6') =>
    api('POST', '/auth/login', { body: { email: p.email, password }, token: null, headers: { 'CF-Connecting-IP': ip } });
  const second = personOf(await login(p.password));
  assert.notEqual(second.cookie, p.cookie);
  const out = await asPerson(p, 'POST', '/auth/logout');
  assert.equal(out.status, 204);
  assert.match(out.headers.getSetCookie()[0], /Max-Age=0/);
  const dead = await asPerson(p, 'GET', '/auth/me');
  assertProblem(dead, 401, 'session_expired');
  assert.match(dead.headers.getSetCookie()[0], /Max-Age=0/, 'the browser drops a dead cookie');
  assertProblem(await asPerson(p, 'GET', '/keys'), 401, 'session_expired');
  assert.equal((await asPerson(second, 'GET', '/auth/me')).status, 200, 'the other session lives');
  // A password change needs the current password, ends every session, and starts a new one.
  assertProblem(await asPerson(second, 'POST', '/auth/password', { body: { current_password: 'wrong password!', new_password: 'a brand new passphrase' } }), 403, 'invalid_credentials');
  const third = personOf(await login(p.password));
  const changed = await asPerson(second, 'POST', '/auth/password', { body: { current_password: p.password, new_password: 'a brand new passphrase' } });
  assert.equal(changed.status, 200, changed.text);
  assertProblem(await asPerson(second, 'GET', '/auth/me'), 401, 'session_expired');
  assertProblem(await asPerson(third, 'GET', '/auth/me'), 401, 'session_expired');
  assert.equal((await asPerson(personOf(changed), 'GET', '/auth/me')).status, 200);
  assertProblem(await login(p.password), 401, 'invalid_credentials');
  assert.equal((await login('a brand new passphrase')).status, 200);
});

test("20 wrong passwords slow the attacker, and the owner's password from another address still works", async () => {
  const p = await signUp({ ip: '203.0.113.7' });
  await freshMinute(25);
  const attacker = { 'CF-Connecting-IP': '198.51.100.77' };
  const statuses = [];
  for (let i = 0; i < 20; i++) {
    const r = await api('POST', '/auth/login', { body: { email: p.email, password: `guess number ${i}` }, token: null, headers: attacker });
    statuses.push(r.status);
  }
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
  assert.deepEqual([...new Set(statuses.slice(10))], [429]);
  // The right password from the attacker's address is refused unheard while it is blocked...
  const blocked = await api('POST', '/auth/login', { body: { email: p.email, password: p.password }, token: null, headers: attacker });
  const problem = assertProblem(blocked, 429, 'rate_limited');
  assert.ok(Number(blocked.headers.get('retry-after')) >= 1 && problem.retry_after_s <= 900);
  // ...and from the owner's own address it works.
  const owner = await api('POST', '/auth/login', { body: { email: p.email, password: p.password }, token: null, headers: { 'CF-Connecting-IP': '192.0.2.77' } });
  assert.equal(owner.status, 200, owner.text);
  // An unknown email is the same 401 as a wrong password (no account enumeration by sign-in).
  const unknown = await api('POST', '/auth/login', { body: { email: `nobody${Date.now()}@example.com`, password: 'whatever it is' }, token: null, headers: { 'CF-Connecting-IP': '192.0.2.78' } });
  assertProblem(unknown, 401, 'invalid_credentials');
});

test('live mode opens once the email is confirmed: by the link in the log, or by the operator', async () => {
  const p = await signUp({ ip: '203.0.113.8' });
  // Local mode has no mail: the link is in the worker's log.
  const log = await eventually(() => {
    const text = readFileSync(`${process.env.CT_STATE_DIR}/wrangler.log`, 'utf8');
    const m = text.match(new RegExp(`mail to ${p.email.replace(/[.@]/g, '\\$&')}: .*\\n.*token=(ctver_[0-9a-f]{64})`));
    return m && m[1];
  }, { what: 'the verification link in the log' });
  // The link confirms only the account signed in to open it: not anonymously, not for someone
  // else (who signed up with another person's address cannot have them confirm it by a click).
  assertProblem(await api('POST', '/auth/verify-email', { body: { token: log }, token: null }), 401, 'session_required');
  const stranger = await signUp({ ip: '203.0.113.8' });
  assertProblem(await asPerson(stranger, 'POST', '/auth/verify-email', { body: { token: log } }), 404);
  assertProblem(await asPerson(p, 'POST', '/auth/verify-email', { body: { token: `ctver_${'0'.repeat(64)}` } }), 404);
  const ok = await asPerson(p, 'POST', '/auth/verify-email', { body: { token: log } });
  assert.equal(ok.status, 200, ok.text);
  assertProblem(await asPerson(p, 'POST', '/auth/verify-email', { body: { token: log } }), 404);
  const me = await asPerson(p, 'GET', '/auth/me', { mode: 'live' });
  assert.deepEqual(me.body.modes, ['test', 'live']);
  const live = await asPerson(p, 'POST', '/keys', { body: { name: 'production', mode: 'live' }, mode: 'live' });
  assert.equal(live.status, 201, live.text);
  assert.match(live.body.key, /^ct_live_/);
  const roll = await asPerson(p, 'POST', `/keys/${live.body.id}/roll`, { body: {}, mode: 'live' });
  assert.equal(roll.status, 201, roll.text);
  const revoked = await asPerson(p, 'DELETE', `/keys/${roll.body.id}`, { mode: 'live' });
  assert.equal(revoked.status, 200, revoked.text);
  // The operator's route confirms another account.
  const q = await signUp({ ip: '203.0.113.8' });
  const byOperator = await api('POST', `/admin/users/${encodeURIComponent(q.email)}/verify`, { token: ADMIN_TOKEN });
  assert.equal(byOperator.status, 200, byOperator.text);
  assert.equal((await asPerson(q, 'GET', '/keys', { mode: 'live' })).status, 200);
  assertProblem(await api('POST', '/admin/users/nobody@example.com/verify', { token: ADMIN_TOKEN }), 404);
  assertProblem(await api('POST', `/admin/users/${encodeURIComponent(q.email)}/verify`, { token: q.session.key.key }), 401);
});
