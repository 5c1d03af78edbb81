// The fleet inventory through the real worker: 240 assets over three years (owned and leased,
// retired with each end of life, five countries, some unknown models), each figure of
// GET /inventory checked against an independent computation from the assets' pinned
// footprints, both views agreeing over a whole life, re-sending changing nothing, bad fields
// named, and no other tenant or mode seeing any of it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createKey, d1, eventually, fetchPdf, ADMIN_TOKEN, BASE } from './harness.mjs';

let org;
const assets = [];
const day = (s) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / 86_400_000;
const iso = (d) => new Date(d * 86_400_000).toISOString().slice(0, 10);

/** A deterministic fleet: purchases over 2023–2025, five countries, a mix of everything. */
function fleet() {
  const countries = ['FR', 'DE', 'US', 'PL', 'SE'];
  const products = ['dell--latitude-5420', 'hp--14-inch-4g-lte-laptop-pc'];
  const out = [];
  for (let i = 0; i < 240; i++) {
    const purchase = day('2023-01-01') + ((i * 137) % 1095);
    const a = { serial: `INV-${String(i).padStart(4, '0')}`, purchase_date: iso(purchase), country: countries[i % 5] };
    if (i % 6 === 0) a.product_id = products[i % 2];
    else if (i % 6 === 1) { a.brand = 'Contoso'; a.model = `Nimbus ${i}`; a.category = 'laptop'; } // unknown model
    else a.category = ['laptop', 'desktop', 'monitor', 'smartphone'][i % 4];
    if (i % 5 === 0) { a.retired_date = iso(purchase + 400 + (i % 300)); a.end_of_life = ['reuse', 'recycle', 'landfill', 'unknown'][i % 4]; }
    if (i % 7 === 0) { a.ownership = 'leased'; a.lease_start = a.purchase_date; a.lease_end = iso(purchase + 1095); delete a.retired_date; delete a.end_of_life; }
    if (i % 3 === 0) { a.purchase_cost = 300 + (i % 10) * 150; a.currency = 'EUR'; }
    if (i % 11 === 0) a.yearly_kwh = 50 + i;
    out.push(a);
  }
  return out;
}

before(async () => {
  org = await createKey('internal', { org: `Inventory Org ${Date.now()}` });
  for (const a of fleet()) {
    const r = await api('POST', '/assets', { body: a, token: org.key });
    assert.equal(r.status, 201, `${a.serial}: ${r.text}`);
    assets.push(r.body);
  }
});

/** The GHG view of one year, computed here from each asset's pinned footprint. */
function expected(year) {
  const [start, end] = [day(`${year}-01-01`), day(`${year + 1}-01-01`)];
  const overlap = (from, to) => Math.max(0, Math.min(to, end) - Math.max(from, start));
  const sum = { s2: 0, cat2: 0, cat5: 0, cat8: 0 };
  for (const a of assets) {
    const f = a.footprint;
    const embodied = f.production_kg + f.transport_kg;
    let from = day(a.purchase_date);
    let to = a.retired_date ? day(a.retired_date) : Infinity;
    if (a.ownership === 'leased') {
      from = Math.max(from, day(a.lease_start)); to = Math.min(to, day(a.lease_end));
      sum.cat8 += embodied * overlap(day(a.lease_start), day(a.lease_end)) / (day(a.lease_end) - day(a.lease_start));
    } else {
      if (day(a.purchase_date) >= start && day(a.purchase_date) < end) sum.cat2 += embodied;
      if (a.retired_date && day(a.retired_date) >= start && day(a.retired_date) < end && a.end_of_life !== 'reuse') sum.cat5 += f.end_of_life_kg;
    }
    sum.s2 += f.use_kg_per_year * overlap(from, Math.max(from, to)) / (end - start);
  }
  return sum;
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 0.011 + Math.abs(b) * 1e-9, `${what}: ${a} vs ${b}`);

test('every figure of a year is the sum of its assets\' pinned figures by the rules', async () => {
  for (const year of [2023, 2024, 2025, 2026]) {
    const r = await api('GET', `/inventory?year=${year}`, { token: org.key });
    assert.equal(r.status, 200, r.text);
    const inv = r.body;
    const e = expected(year);
    close(inv.scope2.location_based.value, e.s2, `${year} scope 2`);
    close(inv.scope3.cat2_capital_goods.value, e.cat2, `${year} cat 2`);
    close(inv.scope3.cat5_waste.value, e.cat5, `${year} cat 5`);
    close(inv.scope3.cat8_upstream_leased.value, e.cat8, `${year} cat 8`);
    assert.equal(inv.scope3.cat1_purchased_goods.value, 0, 'no threshold: every owned asset is capital goods');
    close(inv.total.value, e.s2 + e.cat2 + e.cat5 + e.cat8, `${year} total`);
    assert.equal(inv.scope2.market_based.value, inv.scope2.location_based.value);
    assert.match(inv.scope2.market_based.note, /no contractual factors/);
    for (const f of [inv.total, inv.scope2.location_based]) if (f.value > 0) assert.ok(f.low < f.value && f.value < f.high, JSON.stringify(f));
    assert.ok(inv.primary_data_share > 0 && inv.primary_data_share < 1, `${inv.primary_data_share}`);
    assert.match(inv.methodology.rules, /Category 2/);
    assert.equal(inv.by_country.length, year === 2026 ? inv.by_country.length : 5);
  }
  const y25 = (await api('GET', '/inventory?year=2025', { token: org.key })).body;
  assert.equal(y25.assets.purchased, assets.filter((a) => a.purchase_date.startsWith('2025')).length);
});

test('the inventory as a PDF: the same figures as GET /inventory, by scope and category, with the rules', async () => {
  const inv = (await api('GET', '/inventory?year=2025', { token: org.key })).body;
  const r = await api('POST', '/reports', { body: { type: 'ghg_inventory', year: 2025 }, token: org.key });
  assert.equal(r.status, 202, r.text);
  const done = await eventually(async () => {
    const s = await api('GET', `/reports/${r.body.id}`, { token: org.key });
    return ['done', 'failed'].includes(s.body?.status) && s.body;
  }, { ms: 120_000, every: 300, what: 'the inventory report' });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.summary.total.value, inv.total.value, 'the report holds the figures GET /inventory answers');
  assert.equal(done.summary.scope3.cat2_capital_goods.value, inv.scope3.cat2_capital_goods.value);
  const { pages, text } = await fetchPdf(`/reports/${r.body.id}?format=pdf`, org.key);
  assert.ok(pages >= 2, `${pages} pages`);
  const t = (kg) => (kg / 1000).toFixed(2);
  assert.match(text, /GHG inventory 2025/);
  for (const [label, f] of [['Scope 2, location-based', inv.scope2.location_based], ['Scope 3 Cat. 2, capital goods', inv.scope3.cat2_capital_goods],
    ['Scope 3 Cat. 5, waste', inv.scope3.cat5_waste], ['Scope 3 Cat. 8, upstream leased', inv.scope3.cat8_upstream_leased]]) {
    assert.match(text, new RegExp(`${label.replace(/[.,]/g, '\\$&')}\\s+${t(f.value)}\\s+${t(f.low)} - ${t(f.high)}`), label);
  }
  assert.match(text, new RegExp(`primary data share of Scope 3 \\(ESRS E1-6\\): ${(inv.primary_data_share * 100).toFixed(1)}%`));
  assert.match(text, /never subtracted/);
  // The amortised view is another report; a year is required, and a fleet is not an inventory.
  const am = await api('POST', '/reports', { body: { type: 'ghg_inventory', year: 2025, view: 'amortised' }, token: org.key });
  assert.equal(am.status, 202, am.text);
  const bad = assertProblem(await api('POST', '/reports', { body: { type: 'ghg_inventory', source: 'assets' }, token: org.key }), 422, 'validation_failed');
  assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['source', 'year']);
});

test('the GHG and amortised views agree over whole lives', async () => {
  const total = async (view) => {
    let t = 0;
    for (let y = 2023; y <= 2036; y++) t += (await api('GET', `/inventory?year=${y}&view=${view}`, { token: org.key })).body.total.value;
    return t;
  };
  const [ghg, amortised] = [await total('ghg'), await total('amortised')];
  assert.ok(Math.abs(ghg - amortised) < 0.2, `${ghg} vs ${amortised}`);
});

test('re-sending the fleet changes nothing; a change re-pins; bad fields are named', async () => {
  for (const a of fleet().slice(0, 30)) {
    const r = await api('POST', '/assets', { body: a, token: org.key });
    assert.equal(r.status, 200);
    assert.equal(r.body.updated_at, r.body.created_at, `${a.serial} unchanged`);
  }
  const target = assets[3];
  const p = await api('PATCH', `/assets/${target.id}`, { body: { retired_date: '2026-06-30', end_of_life: 'reuse' }, token: org.key });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual([p.body.status, p.body.end_of_life, p.body.serial], ['retired', 'reuse', target.serial]);
  assertProblem(await api('PATCH', `/assets/${target.id}`, { body: { serial: 'OTHER' }, token: org.key }), 422);
  const bad = assertProblem(await api('POST', '/assets', { body: { serial: 'B1', purchase_date: '2025-13-01', ownership: 'leased', country: 'XX', colour: 1 }, token: org.key }), 422);
  const fields = bad.errors.map((e) => e.field);
  for (const f of ['purchase_date', 'lease_start', 'lease_end', 'country', 'colour']) assert.ok(fields.includes(f), `${f} in ${fields}`);
  assertProblem(await api('GET', '/inventory?year=abc', { token: org.key }), 422);
  const csv = await api('GET', '/inventory?year=2025&format=csv', { token: org.key });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.match(csv.text, /^section,name,value_kg_co2e/);
  const restated = (await api('GET', '/inventory?year=2025&factor_set=current', { token: org.key })).body;
  assert.equal(restated.restatement.figures.find((f) => f.figure === 'total').difference, 0, 'same factors, no change');
});

test('pages, filters, deletion, and nobody else sees any of it', async () => {
  const page1 = await api('GET', '/assets?limit=100', { token: org.key });
  assert.equal(page1.body.data.length, 100);
  const page2 = await api('GET', `/assets?limit=100&cursor=${page1.body.next_cursor}`, { token: org.key });
  assert.equal(page2.body.data.length, 100);
  assert.ok(!page2.body.data.some((a) => page1.body.data.some((b) => b.id === a.id)));
  const monitors = await api('GET', '/assets?category=monitor&limit=200', { token: org.key });
  assert.ok(monitors.body.data.length > 0 && monitors.body.data.every((a) => a.category === 'monitor'));
  const retired = await api('GET', '/assets?status=retired&limit=200', { token: org.key });
  assert.ok(retired.body.data.every((a) => a.retired_date));
  const found = await api('GET', '/assets?q=INV-0007', { token: org.key });
  assert.deepEqual(found.body.data.map((a) => a.serial), ['INV-0007']);
  const feed = await fetch(`${BASE}/api/v1/odata/InventoryAssets?$filter=Serial eq 'INV-0007'`, { headers: { Authorization: `Bearer ${org.key}` } });
  assert.equal(feed.status, 200);
  assert.ok(feed.headers.get('x-carbontrace-proof'), 'the read is audited and signed');
  const [row] = (await feed.json()).value;
  assert.equal(row.Serial, 'INV-0007');
  assert.equal(row.ProductionKgCo2e, assets[7].footprint.production_kg);
  const other = await createKey('internal', { org: `Inventory Other ${Date.now()}` });
  assertProblem(await api('GET', `/assets/${assets[0].id}`, { token: other.key }), 404);
  assertProblem(await api('PATCH', `/assets/${assets[0].id}`, { body: { name: 'x' }, token: other.key }), 404);
  assertProblem(await api('DELETE', `/assets/${assets[0].id}`, { token: other.key }), 404);
  assert.equal((await api('GET', '/inventory?year=2025', { token: other.key })).body.assets.counted, 0);
  const sandbox = await api('POST', '/keys', { body: { mode: 'test' }, token: org.key });
  assertProblem(await api('GET', `/assets/${assets[0].id}`, { token: sandbox.body.key }), 404);
  const seen = (await api('GET', '/assets?limit=200', { token: sandbox.body.key })).body.data;
  assert.ok(seen.every((a) => a.id.startsWith('ast_sandbox_')), 'a test key sees the sandbox inventory, never live assets');
  const del = await api('DELETE', `/assets/${assets[1].id}`, { token: org.key });
  assert.equal(del.status, 200);
  assertProblem(await api('GET', `/assets/${assets[1].id}`, { token: org.key }), 404);
  const v = await api('GET', `/admin/orgs/${org.org_id}/audit/verify`, { token: ADMIN_TOKEN });
  assert.equal(v.body.valid, true);
  assert.ok(v.body.entries >= 240 + 2, `${v.body.entries} audit entries`);
});

test('imports: each format, a re-import changes nothing, bad rows are listed, a file past the quota is refused whole', async () => {
  const imp = await createKey('internal', { org: `Import Org ${Date.now()}` });
  const post = (body, type, query = '') => api('POST', `/assets/import${query}`, { raw: body, headers: { 'Content-Type': type }, token: imp.key });
  const ours = 'serial,category,purchase_date,country,purchase_cost,currency\nC-1,laptop,2025-01-10,FR,"1,200.00",EUR\nC-2,monitor,2024-06-01,DE,,\nC-3,toaster,2024-06-01,DE,,\n';
  let r = await post(ours, 'text/csv');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.format, r.body.created, r.body.unchanged], ['carbontrace', 2, 0]);
  assert.deepEqual(r.body.errors.map((e) => [e.row, e.field]), [[3, 'category']]);
  r = await post(ours, 'text/csv');
  assert.deepEqual([r.body.created, r.body.updated, r.body.unchanged], [0, 0, 2], 're-importing changes nothing');
  const snipe = { total: 1, rows: [{ id: 7, name: 'Finance 12', asset_tag: 'A-12', serial: 'SN-5CG1', model: { id: 3, name: 'EliteBook 840' },
    model_number: '6F6H1EA', category: { id: 2, name: 'Laptops' }, manufacturer: { id: 1, name: 'HP' },
    purchase_date: { date: '2024-05-06', formatted: '06/05/2024' }, purchase_cost: '1,049.00' }] };
  r = await post(JSON.stringify(snipe), 'application/json');
  assert.deepEqual([r.body.format, r.body.created], ['snipeit', 1], r.text);
  const intune = { value: [{ deviceName: 'LT-042', manufacturer: 'Dell Inc.', model: 'Latitude 5420', serialNumber: 'INT-1', enrolledDateTime: '2023-09-14T08:12:00Z', operatingSystem: 'Windows' }] };
  r = await post(JSON.stringify(intune), 'application/json');
  assert.deepEqual([r.body.format, r.body.created], ['intune', 1], r.text);
  assert.match(r.body.notes[0], /enrolledDateTime/, 'Intune has no purchase date: the import says what stands for it');
  const g4it = 'nomEquipementPhysique;modele;quantite;type;dateAchat;dateRetrait;paysDUtilisation;consoElecAnnuelle\nPC-1;OptiPlex 7090;2;Desktop;2022-01-10;2025-02-01;France;120,5\n';
  r = await post(g4it, 'text/csv');
  assert.deepEqual([r.body.format, r.body.created], ['g4it', 2], r.text);
  const all = (await api('GET', '/assets?limit=200', { token: imp.key })).body.data;
  assert.deepEqual(all.map((a) => a.serial).sort(), ['C-1', 'C-2', 'INT-1', 'PC-1-1', 'PC-1-2', 'SN-5CG1']);
  const pc = all.find((a) => a.serial === 'PC-1-1');
  assert.deepEqual([pc.country, pc.yearly_kwh, pc.retired_date], ['FR', 120.5, '2025-02-01']);
  // A dry run writes nothing.
  r = await post('serial,category,purchase_date\nD-1,laptop,2025-01-01\n', 'text/csv', '?dry_run=true');
  assert.deepEqual([r.body.dry_run, r.body.created], [true, 1]);
  assert.equal((await api('GET', '/assets?q=D-1', { token: imp.key })).body.data.length, 0);
  // A Free organisation's day is 25: a file of 30 new rows is refused whole.
  const free = await createKey('free', { org: `Import Free ${Date.now()}` });
  const big = 'serial,category,purchase_date\n' + Array.from({ length: 30 }, (_, i) => `F-${i},laptop,2025-01-01`).join('\n');
  const refused = await api('POST', '/assets/import', { raw: big, headers: { 'Content-Type': 'text/csv' }, token: free.key });
  assertProblem(refused, 429, 'rate_limited');
  assert.equal((await api('GET', '/assets', { token: free.key })).body.data.length, 0, 'nothing half-written');
});

test('a file of more than 1,000 assets is imported by a job: checked whole, written by chunks, re-imported unchanged, refused whole past the quota', async () => {
  const orgName = `Import Job Org ${Date.now()}`;
  const imp = await createKey('internal', { org: orgName });
  const n = 2600; // three chunks of 1,000, the last one partial
  const rows = Array.from({ length: n }, (_, i) => {
    const serial = i === 2199 ? 'JOB-00009' : `JOB-${String(i).padStart(5, '0')}`; // row 2,200 repeats row 10 (another chunk)
    const date = i === 1499 ? '2025-02-30' : `202${3 + (i % 3)}-0${1 + (i % 9)}-15`; // row 1,500: no such day
    return `${serial},${['laptop', 'desktop', 'monitor'][i % 3]},${date},${['FR', 'DE', 'US', 'PL', 'SE'][i % 5]}`;
  });
  const file = (lines) => 'serial,category,purchase_date,country\n' + lines.join('\n') + '\n';
  const post = (body, query = '', token = imp.key) => api('POST', `/assets/import${query}`, { raw: body, headers: { 'Content-Type': 'text/csv' }, token });
  const finished = (r) => eventually(async () => {
    const s = await api('GET', r.body.status_url.replace('/api/v1', ''), { token: imp.key });
    return ['done', 'failed'].includes(s.body?.status) && s;
  }, { ms: 180_000, every: 500, what: `import ${r.body.id}` });

  let r = await post(file(rows));
  assert.equal(r.status, 202, r.text);
  assert.match(r.body.id, /^imp_[0-9a-f]+$/);
  assert.equal(r.headers.get('location'), r.body.status_url);
  assert.deepEqual([r.body.status, r.body.rows, r.body.format, r.body.dry_run], ['queued', n, 'carbontrace', false]);
  let s = await finished(r);
  assert.equal(s.body.status, 'done', s.text);
  assert.deepEqual([s.body.created, s.body.updated, s.body.unchanged, s.body.errors_total], [n - 2, 0, 0, 2]);
  assert.deepEqual(s.body.errors.map((e) => [e.row, e.field]), [[1500, 'purchase_date'], [2200, 'serial']]);
  const [{ count }] = await d1(`SELECT COUNT(*) AS count FROM inventory_assets WHERE org_id = '${imp.org_id}' AND mode = 'live'`);
  assert.equal(count, n - 2, 'every valid row written, once');
  // Nobody else sees the job: another organisation, or the same organisation's test key.
  const other = await createKey('internal', { org: `Import Job Other ${Date.now()}` });
  assertProblem(await api('GET', `/assets/import/${r.body.id}`, { token: other.key }), 404, 'not_found');
  const test = await createKey('internal', { org: orgName, mode: 'test' });
  assertProblem(await api('GET', `/assets/import/${r.body.id}`, { token: test.key }), 404, 'not_found');

  // The same file again changes nothing; a dry run of a changed file writes nothing.
  s = await finished(await post(file(rows)));
  assert.deepEqual([s.body.status, s.body.created, s.body.updated, s.body.unchanged], ['done', 0, 0, n - 2], s.text);
  const changed = rows.map((l, i) => (i < 5 ? l.replace(/,(FR|DE|US|PL|SE)$/, ',IT') : l));
  s = await finished(await post(file(changed), '?dry_run=true'));
  assert.deepEqual([s.body.status, s.body.dry_run, s.body.updated, s.body.unchanged], ['done', true, 5, n - 7], s.text);
  const first = (await api('GET', '/assets?q=JOB-00000', { token: imp.key })).body.data[0];
  assert.equal(first.country, 'FR', 'a dry run writes nothing');
  const audit = await d1(`SELECT action FROM audit_log WHERE org_id = '${imp.org_id}' AND action LIKE 'assets.import%'`);
  assert.deepEqual(audit.map((a) => a.action).sort(), ['assets.import.completed', 'assets.import.completed', 'assets.import.completed',
    'assets.import_requested', 'assets.import_requested', 'assets.import_requested']);

  // A Free organisation's day is 25: a job of 1,100 new rows fails whole, nothing written.
  const free = await createKey('free', { org: `Import Job Free ${Date.now()}` });
  r = await post(file(rows.slice(0, 1100)), '', free.key);
  assert.equal(r.status, 202, r.text);
  s = await eventually(async () => {
    const x = await api('GET', `/assets/import/${r.body.id}`, { token: free.key });
    return ['done', 'failed'].includes(x.body?.status) && x;
  }, { ms: 180_000, every: 500, what: 'the refused import' });
  assert.equal(s.body.status, 'failed', s.text);
  assert.match(s.body.reason, /1100 assets.*refused whole, nothing written/);
  assert.equal((await api('GET', '/assets', { token: free.key })).body.data.length, 0, 'nothing half-written');
  // Past the job limits: more than 100,000 assets, or more than 20 MiB.
  const huge = 'serial\n' + 'x\n'.repeat(100_001);
  const p = assertProblem(await post(huge), 422, 'validation_failed');
  assert.match(JSON.stringify(p.errors), /100000 assets/);
  assertProblem(await post('serial\n' + 'y'.repeat(21 * 1024 * 1024)), 413);
});

test('sandbox: a test key sees a fixed fixture inventory; its writes and imports are validated and answered, nothing stored', async () => {
  const t = (await api('POST', '/keys', { body: { mode: 'test' }, token: org.key })).body.key;
  const list = await api('GET', '/assets?limit=5', { token: t });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body._sandbox, true);
  assert.equal(list.body.data.length, 5);
  const rest = (await api('GET', `/assets?limit=200&cursor=${list.body.next_cursor}`, { token: t })).body.data;
  const all = [...list.body.data, ...rest];
  assert.equal(all.length, 12);
  assert.deepEqual((await api('GET', '/assets?category=laptop&status=retired', { token: t })).body.data.map((a) => a.serial), ['SBX-LT-0004']);
  const one = await api('GET', `/assets/${all[0].id}`, { token: t });
  assert.deepEqual([one.body.serial, one.body.footprint.source, one.body._sandbox], ['SBX-LT-0001', 'catalogue', true]);
  // The same answers for every test key, of any organisation.
  const other = (await api('POST', '/keys', { body: { mode: 'test' }, token: (await createKey('internal', { org: `Sandbox Other ${Date.now()}` })).key })).body.key;
  assert.deepEqual((await api('GET', '/inventory?year=2025', { token: other })).body, (await api('GET', '/inventory?year=2025', { token: t })).body);
  // The inventory of the fixture, by the rules: Category 2 is the owned assets bought in 2025.
  const inv = (await api('GET', '/inventory?year=2025', { token: t })).body;
  assert.equal(inv._sandbox, true);
  const bought = all.filter((a) => a.purchase_date.startsWith('2025') && a.ownership === 'owned');
  const cat2 = bought.reduce((s, a) => s + a.footprint.production_kg + a.footprint.transport_kg, 0);
  assert.ok(Math.abs(inv.scope3.cat2_capital_goods.value - cat2) < 0.05, `${inv.scope3.cat2_capital_goods.value} vs ${cat2}`);
  assert.equal(inv.assets.purchased, all.filter((a) => a.purchase_date.startsWith('2025')).length);
  // Writes answer as if made; nothing is stored.
  const made = await api('POST', '/assets', { body: { serial: 'SBX-NEW-1', category: 'laptop', purchase_date: '2025-05-05' }, token: t });
  assert.deepEqual([made.status, made.body._sandbox, made.body.id], [201, true, 'ast_sandbox_new']);
  assertProblem(await api('GET', '/assets/ast_sandbox_new', { token: t }), 404);
  const patched = await api('PATCH', `/assets/${all[0].id}`, { body: { country: 'IT' }, token: t });
  assert.deepEqual([patched.status, patched.body.country], [200, 'IT']);
  assert.equal((await api('GET', `/assets/${all[0].id}`, { token: t })).body.country, 'FR');
  assert.equal((await api('DELETE', `/assets/${all[0].id}`, { token: t })).body._sandbox, true);
  assert.equal((await api('GET', '/assets?limit=200', { token: t })).body.data.length, 12);
  assertProblem(await api('POST', '/assets', { body: { serial: 'X' }, token: t }), 422, 'validation_failed');
  // An import is a dry run against the fixture: its serials unchanged, new ones created, bad rows listed.
  const csv = 'serial,name,product_id,purchase_date,country,purchase_cost,currency,asset_tag\n' +
    'SBX-LT-0001,"Sandbox laptop, finance",dell--latitude-5420,2023-03-15,FR,1150,EUR,SBX-0001\nSBX-NEW-2,,,2025-01-01,FR,,,\nSBX-NEW-3,,dell--latitude-5420,2025-13-01,FR,,,\n';
  const imp = await api('POST', '/assets/import', { raw: csv, headers: { 'Content-Type': 'text/csv' }, token: t });
  assert.equal(imp.status, 200, imp.text);
  assert.deepEqual([imp.body._sandbox, imp.body.dry_run, imp.body.unchanged, imp.body.errors.map((e) => e.row)], [true, true, 1, [2, 3]]);
  assert.equal((await api('GET', '/assets?q=SBX-NEW', { token: t })).body.data.length, 0);
  // Settings (an admin key's) validate and answer, and stay the defaults.
  const admin = (await createKey('internal', { mode: 'test' })).key;
  const put = await api('PUT', '/inventory/settings', { body: { fiscal_year_start_month: 4 }, token: admin });
  assert.deepEqual([put.status, put.body.fiscal_year_start_month, put.body._sandbox], [200, 4, true], put.text);
  assert.equal((await api('GET', '/inventory/settings', { token: admin })).body.fiscal_year_start_month, 1);
});

test('settings: a fiscal year, a capitalisation threshold and market-based factors change the inventory as the rules say', async () => {
  const s = await createKey('internal', { org: `Settings Org ${Date.now()}` });
  const laptop = { serial: 'S-1', category: 'laptop', purchase_date: '2025-02-10', country: 'FR', purchase_cost: 800, currency: 'EUR' };
  assert.equal((await api('POST', '/assets', { body: laptop, token: s.key })).status, 201);
  const before = (await api('GET', '/inventory?year=2025', { token: s.key })).body;
  assert.ok(before.scope3.cat2_capital_goods.value > 0);
  const put = await api('PUT', '/inventory/settings', { body: { fiscal_year_start_month: 4, capitalisation_threshold: 1000, market_factors: { FR: 0.0 } }, token: s.key });
  assert.equal(put.status, 200, put.text);
  assertProblem(await api('PUT', '/inventory/settings', { body: { fiscal_year_start_month: 13 }, token: s.key }), 422);
  // The fiscal year 2024 runs 2024-04-01 to 2025-03-31 and holds the February purchase.
  const fy = (await api('GET', '/inventory?year=2024', { token: s.key })).body;
  assert.deepEqual([fy.period.start, fy.period.end], ['2024-04-01', '2025-03-31']);
  assert.equal(fy.scope3.cat2_capital_goods.value, 0, 'below the threshold: not capital goods');
  assert.equal(fy.scope3.cat1_purchased_goods.value, before.scope3.cat2_capital_goods.value);
  assert.equal(fy.scope2.market_based.value, 0, 'a zero contractual factor');
  assert.equal(fy.scope2.market_based.note, undefined);
  assert.ok(fy.scope2.location_based.value > 0);
  assert.equal((await api('GET', '/inventory/settings', { token: s.key })).body.fiscal_year_start_month, 4);
});

test('a Blancco erasure of an asset\'s serial retires it and links the erasure', async () => {
  const target = assets.slice(10).find((a) => !a.retired_date && a.ownership !== 'leased' && a.purchase_date < '2026-01-01');
  const report = { blancco_data: { description: { document_id: `ER-${target.serial}` },
    blancco_hardware_report: { system: [{ manufacturer: 'Dell Inc.' }, { model: 'Latitude 5420' }, { chassis_type: 'Notebook' }, { serial: target.serial }],
      memory: [{ total_memory: 8589934592 }] },
    blancco_erasure_report: { erasures: [{ erasure: [{ state: 'Successful' }, { erasure_standard_name: 'NIST 800-88 Purge' }, { end_time: '2026-02-03T10:00:00Z' }] }] } } };
  const r = await api('POST', '/integrations/blancco/sync', { body: { reports: [report] }, token: org.key });
  assert.equal(r.status, 200, r.text);
  const after = (await api('GET', `/assets/${target.id}`, { token: org.key })).body;
  assert.deepEqual([after.status, after.retired_date, after.end_of_life, after.erasure_document_id],
    ['retired', '2026-02-03', 'reuse', `ER-${target.serial}`]);
  // Its avoided emissions are reported beside the year it was erased in, never subtracted.
  const [y2026, y2025] = await Promise.all([2026, 2025].map((y) => api('GET', `/inventory?year=${y}`, { token: org.key })));
  const device = r.body.devices[0];
  assert.equal(y2026.body.avoided_emissions.erasures, 1, y2026.text);
  assert.ok(device.avoided_kg_co2e > 0 && Math.abs(y2026.body.avoided_emissions.value - device.avoided_kg_co2e) < 0.006);
  assert.match(y2026.body.avoided_emissions.note, /never subtracted/);
  assert.deepEqual([y2025.body.avoided_emissions.erasures, y2025.body.avoided_emissions.value], [0, 0]);
  assert.deepEqual(y2026.body.assets.excluded, [], 'every stored asset was accounted for');
});
