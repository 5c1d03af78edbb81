// A short scenario through a TypeScript client generated from /api/v1/openapi.json
// (openapi-typescript → target/clients/schema.d.ts, openapi-fetch): footprint, batch,
// identify, certificate, verify, usage. Type-checked with `tsc --noEmit` and run by
// tests/e2e/clients.test.mjs; prints one JSON line of what it saw, exits 1 on any surprise.
import createClient from 'openapi-fetch';
import type { paths } from '../../target/clients/schema.js';

const base = process.env.CT_BASE_URL;
const key = process.env.CT_KEY;
if (!base || !key) throw new Error('CT_BASE_URL and CT_KEY are required');

const api = createClient<paths>({ baseUrl: `${base}/api/v1`, headers: { Authorization: `Bearer ${key}` } });

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`scenario: ${what}`);
    process.exit(1);
  }
}

const one = await api.POST('/footprint', {
  body: { category: 'laptop', product: { brand: 'Dell' }, specs: { screen_size_in: 14, memory_gb: 16 }, use: { country: 'FR' } },
});
check(one.response.status === 200 && one.data !== undefined, `footprint: ${one.response.status}`);
const total: number = one.data!.total_kg_co2e;
check(one.data!.uncertainty.low_kg <= total && total <= one.data!.uncertainty.high_kg, 'range holds the total');

const batch = await api.POST('/footprint/batch', {
  body: { devices: [{ category: 'monitor' }, { product: { id: 'dell--latitude-5420' } }] },
});
check(batch.response.status === 200 && batch.data!.results.length === 2, 'batch of two');

const found = await api.POST('/products/identify', { body: { text: 'Dell Latitude 5420' } });
check(found.response.status === 200, `identify: ${found.response.status}`);

const cert = await api.POST('/certificates', {
  body: { footprint: { product: { id: 'dell--latitude-5420' }, use: { country: 'FR' } }, asset: { serial: 'TS-CLIENT-1' } },
});
check(cert.response.status === 201 && typeof cert.data!.id === 'string', `certificate: ${cert.response.status}`);

const verified = await api.GET('/certificates/{id}/verify', { params: { path: { id: cert.data!.id } } });
check(verified.response.status === 200 && verified.data!.valid === true, 'certificate verifies');

const usage = await api.GET('/usage');
check(usage.response.status === 200, 'usage');

const problem = await api.POST('/footprint', { body: { category: 'laptop', use: { lifetime_years: 300 } } });
check(problem.response.status === 422 && problem.error !== undefined, 'a 422 is typed as an error');

console.log(JSON.stringify({
  total,
  batch: batch.data!.results.length,
  certificate: cert.data!.id,
  valid: verified.data!.valid,
  plan: usage.data!.plan,
}));
