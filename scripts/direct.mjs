// Serve the built worker on workerd directly (no wrangler dev proxy, no entry worker): the
// runtime Cloudflare runs in production, with every binding local (KV, D1, R2, both Durable
// Objects, the queue and its dead-letter queue) and the secrets of an env file. Used by
// scripts/bench.sh to measure speed as production runs it.
//
//   node scripts/direct.mjs <state dir> <port> <env file>
//
// Facts this relies on (Miniflare 5, bundled with wrangler 4.164): Miniflare-4-style options
// go through `convertV4MiniflareOptions()`; modules are listed explicitly; `cf: false` avoids
// fetching Request.cf; `unsafeDirectSockets` binds the port straight to the worker;
// `unsafeTriggerHandlers` exposes /cdn-cgi/local/scheduled for the cron; D1 migrations are
// applied through `getD1Database()`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions, Log, LogLevel } from 'miniflare';

const [state, port, envFile] = process.argv.slice(2);
const root = new URL('..', import.meta.url).pathname;
const secrets = Object.fromEntries(readFileSync(envFile, 'utf8').split('\n')
  .filter((l) => /^[A-Z_0-9]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const consumer = { maxBatchSize: 10, maxBatchTimeout: 1 };

const mf = new Miniflare(convertV4MiniflareOptions({
  rootPath: root,
  cf: false,
  log: new Log(LogLevel.WARN),
  logRequests: false,
  unsafeTriggerHandlers: true,
  // CT_INSPECTOR_PORT: the V8 inspector, for CPU profiles of the worker (scripts/profile.mjs).
  ...(process.env.CT_INSPECTOR_PORT ? { inspectorPort: Number(process.env.CT_INSPECTOR_PORT) } : {}),
  resourcePersistencePath: state,
  workers: [{
    name: 'carbontrace',
    modulesRoot: join(root, 'build'),
    modules: [
      { type: 'ESModule', path: join(root, 'build/index.js') },
      { type: 'CompiledWasm', path: join(root, 'build/index_bg.wasm') },
    ],
    compatibilityDate: '2026-11-01',
    bindings: { EXPORT_TTL_DAYS: '7', ...secrets },
    kvNamespaces: ['KV'],
    d1Databases: ['DB'],
    r2Buckets: ['BUCKET'],
    durableObjects: {
      RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
      AUDIT_SEQUENCER: { className: 'AuditSequencer', useSQLite: true },
    },
    queueProducers: { JOBS: { queueName: 'carbontrace-jobs' } },
    queueConsumers: {
      'carbontrace-jobs': { ...consumer, maxRetries: 4, deadLetterQueue: 'carbontrace-jobs-dlq' },
      'carbontrace-jobs-dlq': { ...consumer, maxRetries: 3 },
    },
    cronTriggers: ['0 * * * *'],
    unsafeDirectSockets: [{ host: '127.0.0.1', port: Number(port) }],
  }],
}));
await mf.ready;

// The D1 schema, migration by migration (statements split on `;` at line ends, comments out).
const db = await mf.getD1Database('DB');
const dir = join(root, 'migrations');
for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
  const sql = readFileSync(join(dir, f), 'utf8').split('\n').map((l) => l.replace(/--.*$/, '')).join('\n');
  for (const stmt of sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) {
    await db.prepare(stmt).run();
  }
}
// The first answers: the first includes whatever the isolate had left to do after start.
const times = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.text());
  times.push((performance.now() - t).toFixed(1));
}
console.log(`serving on http://127.0.0.1:${port} (workerd direct); first three GET /health: ${times.join(', ')} ms`);
const stop = async () => { await mf.dispose(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
