// The one job lifecycle (src/jobs), through the real local queue, D1 and R2: permanent
// failures end `failed` with their reason, a job left running past its lease is recovered
// by the hourly sweep (and given up after too many starts), and a delete made while an
// export is being built stops it, stays deleted, with no archive left behind. (Transient retries and
// the dead-letter queue are exercised by the Blancco pulls in blancco.test.mjs.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { api, assertProblem, createKey, d1, eventually, BASE } from './harness.mjs';

let org;
before(async () => {
  // Internal plan: the export test polls fast, and no per-minute limit should stand in its way.
  org = await createKey('internal', { org: `Jobs Org ${Date.now()}` });
});

const settled = (path) => eventually(async () => {
  const s = await api('GET', path, { token: org.key });
  return ['done', 'failed'].includes(s.body.status) ? s.body : null;
}, { ms: 30000, every: 100, what: path });

const sweep = async () => assert.equal((await fetch(`${BASE}/__scheduled?cron=0+*+*+*+*`)).status, 200);

const audit = (target) => d1(`SELECT seq, actor, action, details FROM audit_log WHERE org_id = '${org.org_id}' AND target = '${target}' ORDER BY seq`);

test('a permanent failure ends failed with its reason, once, and is audited', async () => {
  const r = await api('POST', '/reports', { body: { type: 'hotspot', devices: [{ category: 'toaster' }] }, token: org.key });
  assert.equal(r.status, 202, r.text);
  const job = await settled(`/reports/${r.body.id}`);
  assert.equal(job.status, 'failed');
  assert.match(job.reason, /no device could be computed/);
  assert.equal(job.attempts, 1, 'not retried');
  const entries = await audit(r.body.id);
  assert.deepEqual(entries.map((e) => e.action), ['report.requested', 'report.failed']);
  assert.equal(entries[1].actor, 'system');
  assert.match(JSON.parse(entries[1].details).reason, /no device could be computed/);
});

test('a job left running past its lease is recovered by the sweep, and given up after 10 starts', async () => {
  const r = await api('POST', '/reports', { body: { type: 'sustainability', devices: [{ category: 'laptop' }] }, token: org.key });
  const first = await settled(`/reports/${r.body.id}`);
  assert.equal(first.status, 'done');
  // As if the runner had died mid-run: running, lease long expired.
  await d1(`UPDATE reports SET status = 'running', finished_at = NULL, lease_until = '2000-01-01T00:00:00.000Z' WHERE id = '${r.body.id}'`);
  await sweep();
  const again = await settled(`/reports/${r.body.id}`);
  assert.equal(again.status, 'done');
  assert.equal(again.attempts, 2, 'run once more');
  assert.equal((await api('GET', `/reports/${r.body.id}?format=pdf`, { token: org.key })).status, 200);

  // A lease that is still valid is left alone.
  await d1(`UPDATE reports SET status = 'running', lease_until = '2999-01-01T00:00:00.000Z' WHERE id = '${r.body.id}'`);
  await sweep();
  const [held] = await d1(`SELECT status, attempts FROM reports WHERE id = '${r.body.id}'`);
  assert.deepEqual(held, { status: 'running', attempts: 2 });

  // Started too often: failed, with the last reason.
  await d1(`UPDATE reports SET attempts = 10, reason = 'storing the PDF in R2: boom', lease_until = '2000-01-01T00:00:00.000Z' WHERE id = '${r.body.id}'`);
  await sweep();
  const gone = await settled(`/reports/${r.body.id}`);
  assert.equal(gone.status, 'failed');
  assert.equal(gone.reason, 'gave up after 10 attempt(s): storing the PDF in R2: boom');
  const actions = (await audit(r.body.id)).map((e) => e.action);
  assert.deepEqual(actions, ['report.requested', 'report.completed', 'report.completed', 'report.failed']);
});

test('a queued job whose message was lost is sent again by the sweep', async () => {
  const r = await api('POST', '/reports', { body: { type: 'hotspot', devices: [{ category: 'monitor' }] }, token: org.key });
  await settled(`/reports/${r.body.id}`);
  await d1(`UPDATE reports SET status = 'queued', attempts = 0, finished_at = NULL, lease_until = '2000-01-01T00:00:00.000Z' WHERE id = '${r.body.id}'`);
  await sweep();
  const again = await settled(`/reports/${r.body.id}`);
  assert.equal(again.status, 'done');
  assert.equal(again.attempts, 1);
});

test('an export deleted while it is being built stops, stays deleted, with no archive left', async () => {
  // A table long enough to take several pages (the build checks every 20 pages of 1,000 that
  // it is still wanted).
  await d1(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 60000)
    INSERT INTO usage_daily (subject, org_id, day, requests) SELECT 'jobs-' || x, '${org.org_id}', '2026-01-01', x FROM n`);
  // `wrangler dev` runs one isolate, which holds an HTTP request back while the job's batch
  // runs; in production the DELETE comes from another isolate mid-build. A trigger stands in
  // for it, at a known point: the handler's own statement, run the moment the build records
  // its first checkpoint (the first table archived, usage_daily next), so the delete always
  // lands mid-build however fast the runner is.
  await d1(`CREATE TRIGGER e2e_delete_mid_build AFTER UPDATE OF progress ON exports
    WHEN NEW.org_id = '${org.org_id}' AND NEW.status = 'running' AND json_extract(NEW.progress, '$.checkpoint.step') = 1
    BEGIN UPDATE exports SET status = 'deleted', lease_until = NULL WHERE id = NEW.id; END`);
  let id;
  try {
    const r = await api('POST', '/exports', { body: {}, token: org.key });
    assert.equal(r.status, 202, r.text);
    id = r.body.id;
    // The runner sees it within 20 pages, stops, and removes what it wrote.
    const log = `${process.env.CT_STATE_DIR}/wrangler.log`;
    await eventually(() => readFileSync(log, 'utf8').includes(`exports ${id}: left \`running\` while it ran; discarding`),
      { ms: 60000, what: 'the runner to stop' });
  } finally {
    await d1('DROP TRIGGER IF EXISTS e2e_delete_mid_build');
  }
  const [row] = await d1(`SELECT status, bytes, manifest FROM exports WHERE id = '${id}'`);
  assert.deepEqual(row, { status: 'deleted', bytes: null, manifest: null });
  assertProblem(await api('GET', `/exports/${id}?download=1`, { token: org.key }), 410, 'export_gone');
  await eventually(() => {
    try {
      execFileSync('wrangler', ['r2', 'object', 'get', `carbontrace/exports/${org.org_id}/${id}.zip`, '--local', '--pipe',
        '--persist-to', `${process.env.CT_STATE_DIR}/wrangler`], { cwd: new URL('../..', import.meta.url).pathname, stdio: 'pipe' });
      return false;
    } catch (e) { return /does not exist/.test(String(e.stderr)); }
  }, { ms: 10000, what: 'archive removed' });
  assert.ok(!(await audit(id)).some((e) => e.action === 'export.completed'), 'never recorded as completed');
});
