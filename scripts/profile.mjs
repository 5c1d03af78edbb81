// CPU profile of the worker on workerd (scripts/direct.mjs started with CT_INSPECTOR_PORT):
// samples through the V8 inspector while a load runs, then prints the functions (JS and wasm)
// that took the most self time. Used to find where a metered request's CPU goes (issue 17).
//
//   node scripts/profile.mjs <inspector port> <seconds> [top N]
//
// Run the load (hey) against the worker during the window.
const [port, seconds, top = '40'] = process.argv.slice(2);
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const target = targets.find((t) => /carbontrace/.test(t.title ?? t.url ?? '')) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
let next = 1;
const pending = new Map();
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
};
const send = (method, params = {}) => new Promise((ok) => {
  const id = next++;
  pending.set(id, ok);
  ws.send(JSON.stringify({ id, method, params }));
});
await send('Profiler.enable');
await send('Profiler.setSamplingInterval', { interval: 50 });
await send('Profiler.start');
console.error(`profiling ${target.title ?? target.url} for ${seconds}s`);
await new Promise((ok) => setTimeout(ok, Number(seconds) * 1000));
const { result } = await send('Profiler.stop');
ws.close();
const p = result.profile;
const self = new Map();
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
let total = 0;
for (const [id, us] of dt) {
  const n = byId.get(id);
  const f = n.callFrame;
  const name = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').pop() : ''}`.trim();
  self.set(name, (self.get(name) ?? 0) + us);
  total += us;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top));
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
for (const [name, us] of rows) console.log(`${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${name}`);
