//! Fleet inventory: import assets from a CSV or JSON file (drag and drop, or the file input;
//! `POST /assets/import`: up to 1,000 rows answered at once with per-row errors, more as a job
//! polled at `GET /assets/import/{id}`), and the GHG inventory of a year (`GET /inventory`):
//! Scope 2 and Scope 3 charts with their tables, a chart across the last three years, and the
//! year as CSV (`format=csv`, fetched as a blob).
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError, api, messageOf, saveBlob, sleep, unwrap } from '../api/client';
import type { operations } from '../../../target/console/schema';
import type { Figure } from '../api/types';
import { useConsole } from '../session';
import { Chart } from '../components/chart';
import { ErrorText, PageHeading, Select, fmtInt, fmtKg, useLoad } from '../components/ui';

type ImportFormat = NonNullable<NonNullable<operations['importAssets']['parameters']['query']>['format']>;
interface ImportResult {
  format: string;
  dry_run: boolean;
  rows: number;
  created?: number;
  updated?: number;
  unchanged?: number;
  errors?: { row?: number; field?: string; message?: string }[];
  errors_total?: number;
  notes?: string[];
  status?: string;
  reason?: string | null;
  phase?: string;
  chunks_done?: number;
  chunks?: number;
}

const MAX_BYTES = 20 * 1024 * 1024;
const FORMATS: ReadonlyArray<readonly [ImportFormat, string]> = [
  ['auto', 'Detect the format'], ['carbontrace', 'CarbonTrace'], ['snipeit', 'Snipe-IT'], ['intune', 'Microsoft Intune'], ['g4it', 'G4IT'],
];

function ImportPanel({ onImported }: { onImported: () => void }) {
  const { mode, announce } = useConsole();
  const inputId = useId();
  const [format, setFormat] = useState<ImportFormat>('auto');
  const [dryRun, setDryRun] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);

  const send = async (file: File) => {
    setError(null);
    setResult(null);
    if (file.size > MAX_BYTES) { setError(`${file.name} is larger than 20 MiB.`); return; }
    const json = /\.json$/i.test(file.name) || file.type === 'application/json';
    setBusy(`Importing ${file.name}…`);
    try {
      const text = await file.text();
      const res = await api.POST('/assets/import', {
        params: { query: { format, dry_run: dryRun ? 'true' : 'false' } },
        body: text,
        bodySerializer: (b) => b,
        headers: { 'Content-Type': json ? 'application/json' : 'text/csv' },
      });
      let out = unwrap(res) as ImportResult & { id?: string };
      if (res.response.status === 202 && out.id) {
        const id = out.id;
        // A large file is a job: follow it until it is done or failed.
        for (;;) {
          setBusy(`Importing ${file.name} as a job: ${out.status ?? 'queued'}${out.chunks ? `, ${out.chunks_done ?? 0} of ${out.chunks} chunks (${out.phase ?? ''})` : ''}…`);
          await sleep(1500);
          try {
            out = unwrap(await api.GET('/assets/import/{id}', { params: { path: { id } } })) as ImportResult;
          } catch (e) {
            if (e instanceof ApiError && e.status === 429) { await sleep((e.retryAfter ?? 5) * 1000); continue; }
            throw e;
          }
          if (out.status === 'done' || out.status === 'failed') break;
        }
        if (out.status === 'failed') throw new Error(`The import failed: ${out.reason ?? 'no reason given'}.`);
      }
      setResult(out);
      if (!out.dry_run) onImported();
      announce(`${out.dry_run ? 'Checked' : 'Imported'} ${fmtInt(out.rows)} rows: ${fmtInt(out.created ?? 0)} created, ${fmtInt(out.updated ?? 0)} updated, ${fmtInt(out.errors_total ?? out.errors?.length ?? 0)} with errors.`);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(null);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer?.files?.[0];
    if (f) void send(f);
  };

  const errors = result?.errors ?? [];
  return (
    <section aria-labelledby={`${inputId}-h`}>
      <h2 id={`${inputId}-h`}>Import assets</h2>
      <p>A CSV (or JSON) file with a header row: <code>serial,category,purchase_date,country</code> at least, or an export from
        Snipe-IT, Intune or G4IT. Re-importing the same file changes nothing.
        {mode === 'test' && ' In sandbox mode an import is only checked, never stored.'}</p>
      <div class="inline-form">
        <Select label="Format" name="format" value={format} onChange={(v) => setFormat(v as ImportFormat)} options={FORMATS} />
        <label class="check"><input type="checkbox" checked={dryRun} onChange={(e) => setDryRun((e.currentTarget as HTMLInputElement).checked)} /> Only check (dry run)</label>
      </div>
      <div class={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}>
        <p>Drop a file here, or</p>
        <label for={inputId} class="button">Choose a file</label>
        <input id={inputId} class="visually-hidden" type="file" accept=".csv,text/csv,.json,application/json" disabled={busy !== null}
          onChange={(e) => { const i = e.currentTarget as HTMLInputElement; const f = i.files?.[0]; if (f) void send(f); i.value = ''; }} />
      </div>
      {busy && <p role="status"><progress aria-label="Import in progress" /> {busy}</p>}
      <ErrorText error={error} />
      {result && (
        <div class="panel" id="import-result">
          <h3>{result.dry_run ? 'Checked (nothing written)' : 'Imported'}: {fmtInt(result.rows)} rows ({result.format})</h3>
          <dl class="facts">
            <dt>Created</dt><dd>{fmtInt(result.created ?? 0)}</dd>
            <dt>Updated</dt><dd>{fmtInt(result.updated ?? 0)}</dd>
            <dt>Unchanged</dt><dd>{fmtInt(result.unchanged ?? 0)}</dd>
            <dt>Rows with errors</dt><dd>{fmtInt(result.errors_total ?? errors.length)}</dd>
          </dl>
          {(result.notes ?? []).map((n) => <p class="hint" key={n}>{n}</p>)}
          {errors.length > 0 && (
            <div class="table-wrap">
              <table>
                <caption>Rows not imported{(result.errors_total ?? 0) > errors.length ? ` (the first ${fmtInt(errors.length)} of ${fmtInt(result.errors_total ?? 0)})` : ''}</caption>
                <thead><tr><th scope="col" class="num">Row</th><th scope="col">Field</th><th scope="col">Problem</th></tr></thead>
                <tbody>
                  {errors.map((e, i) => <tr key={i}><td class="num">{e.row ?? '—'}</td><td class="mono">{e.field ?? '—'}</td><td>{e.message ?? ''}</td></tr>)}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

// Scope 3 categories: the inventory's key, the full name, the chart's short label.
const SCOPE3: ReadonlyArray<readonly [string, string, string]> = [
  ['cat1_purchased_goods', 'Cat. 1 purchased goods', 'Cat. 1'],
  ['cat2_capital_goods', 'Cat. 2 capital goods', 'Cat. 2'],
  ['cat5_waste', 'Cat. 5 waste', 'Cat. 5'],
  ['cat8_upstream_leased', 'Cat. 8 upstream leased', 'Cat. 8'],
];

function FigureRows({ rows }: { rows: ReadonlyArray<readonly [string, Figure | undefined]> }) {
  return (
    <>
      {rows.map(([label, f]) => (
        <tr key={label}><th scope="row">{label}</th><td class="num">{fmtKg(f?.value)}</td><td class="num">{f ? `${fmtKg(f.low)} – ${fmtKg(f.high)}` : '—'}</td></tr>
      ))}
    </>
  );
}

function InventoryPanel({ version }: { version: number }) {
  const { mode, announce } = useConsole();
  const thisYear = new Date().getUTCFullYear();
  const [year, setYear] = useState(thisYear - 1);
  const [view, setView] = useState<'ghg' | 'amortised'>('ghg');
  const [csvError, setCsvError] = useState<string | null>(null);
  const years = Array.from({ length: 8 }, (_, i) => thisYear - i);

  const inv = useLoad(async () => unwrap(await api.GET('/inventory', { params: { query: { year, view } } })), [year, view, mode, version]);
  const [trend, setTrend] = useState<{ year: number; scope2: number | null; scope3: number | null }[] | null>(null);
  const [trendError, setTrendError] = useState<string | null>(null);

  // The last three years, one call per year (the selected year's answer is reused).
  useEffect(() => {
    if (!inv.data) return;
    let live = true;
    (async () => {
      const out: { year: number; scope2: number | null; scope3: number | null }[] = [];
      for (const y of [year - 2, year - 1]) {
        try {
          const d = unwrap(await api.GET('/inventory', { params: { query: { year: y, view } } }));
          out.push({ year: y, scope2: d.scope2?.location_based?.value ?? null, scope3: d.scope3?.total?.value ?? null });
        } catch (e) {
          if (live) setTrendError(`${y}: ${messageOf(e)}`);
          out.push({ year: y, scope2: null, scope3: null });
        }
      }
      out.push({ year, scope2: inv.data?.scope2?.location_based?.value ?? null, scope3: inv.data?.scope3?.total?.value ?? null });
      if (live) setTrend(out);
    })();
    return () => { live = false; };
  }, [inv.data]);

  const downloadCsv = async () => {
    setCsvError(null);
    try {
      const blob = unwrap(await api.GET('/inventory', { params: { query: { year, view, format: 'csv' } }, parseAs: 'blob' }));
      saveBlob(blob, `inventory-${year}-${view}.csv`);
      announce(`Inventory ${year} downloaded as CSV.`);
    } catch (e) {
      setCsvError(messageOf(e));
    }
  };

  const d = inv.data;
  const s2: ReadonlyArray<readonly [string, Figure | undefined]> = [['Location-based', d?.scope2?.location_based], ['Market-based', d?.scope2?.market_based]];
  const s3 = SCOPE3.map(([k, label]) => [label, (d?.scope3 as Record<string, Figure | undefined> | undefined)?.[k]] as const);
  const s3Short = SCOPE3.map(([, , short]) => short);
  return (
    <section aria-labelledby="inventory-h">
      <h2 id="inventory-h">GHG inventory</h2>
      <div class="inline-form">
        <Select label="Reporting year" name="year" value={String(year)} onChange={(v) => setYear(Number(v))} options={years.map((y) => [String(y), String(y)] as const)} />
        <Select label="View" name="view" value={view} onChange={(v) => setView(v as 'ghg' | 'amortised')}
          options={[['ghg', 'GHG Protocol (embodied in the purchase year)'], ['amortised', 'Amortised over the lifetime']]} />
        <button type="button" onClick={() => void downloadCsv()}>Download CSV</button>
      </div>
      <ErrorText error={csvError ?? inv.error} />
      {inv.loading && !d && <p role="status">Loading the inventory…</p>}
      {d && (
        <>
          <p>{fmtInt(d.assets?.counted ?? 0)} assets counted ({fmtInt(d.assets?.purchased ?? 0)} purchased, {fmtInt(d.assets?.retired ?? 0)} retired in {d.year ?? year});
            total <b>{fmtKg(d.total?.value)} kg CO₂e</b> (location-based){d.primary_data_share != null ? `, ${Math.round(d.primary_data_share * 100)}% from primary data` : ''}.</p>
          {(d.assets?.excluded?.length ?? 0) > 0 && <p class="note">{fmtInt(d.assets?.excluded?.length ?? 0)} stored assets could not be accounted for (see the CSV or the PDF report for the reasons).</p>}
          <div class="charts">
            <figure>
              <Chart summary={`Scope 2 in ${year}: location-based ${fmtKg(s2[0]?.[1]?.value)} kg, market-based ${fmtKg(s2[1]?.[1]?.value)} kg CO2e.`}
                x={s2.map(([l]) => l)} xKind="category" yLabel="kg CO₂e" height={220}
                series={[{ label: 'Scope 2', kind: 'bars', color: '#1f7a4d', values: s2.map(([, f]) => f?.value ?? null) }]} />
              <figcaption>Scope 2 (use-phase electricity), kg CO₂e</figcaption>
            </figure>
            <figure>
              <Chart summary={`Scope 3 in ${year} by category: ${s3.map(([l, f]) => `${l} ${fmtKg(f?.value)} kg`).join(', ')}.`}
                x={s3Short} xKind="category" yLabel="kg CO₂e" height={220}
                series={[{ label: 'Scope 3', kind: 'bars', color: '#2f6690', values: s3.map(([, f]) => f?.value ?? null) }]} />
              <figcaption>Scope 3 by category, kg CO₂e: 1 purchased goods, 2 capital goods, 5 waste, 8 upstream leased assets</figcaption>
            </figure>
          </div>
          <div class="table-wrap">
            <table id="inventory-table">
              <caption>Inventory {year}, kg CO₂e with the 90% range</caption>
              <thead><tr><th scope="col">Figure</th><th scope="col" class="num">kg CO₂e</th><th scope="col" class="num">90% range</th></tr></thead>
              <tbody>
                <FigureRows rows={s2.map(([l, f]) => [`Scope 2, ${l.toLowerCase()}`, f] as const)} />
                <FigureRows rows={s3.map(([l, f]) => [`Scope 3, ${l}`, f] as const)} />
                <FigureRows rows={[['Scope 3 total', d.scope3?.total], ['Total (location-based)', d.total], ['Total (market-based)', d.total_market_based]]} />
              </tbody>
            </table>
          </div>
          {(d.by_category?.length ?? 0) > 0 && (
            <div class="table-wrap">
              <table>
                <caption>By device category</caption>
                <thead><tr><th scope="col">Category</th><th scope="col" class="num">Assets</th><th scope="col" class="num">kg CO₂e</th></tr></thead>
                <tbody>{(d.by_category ?? []).map((c) => <tr key={c.key}><th scope="row">{c.key}</th><td class="num">{fmtInt(c.count ?? 0)}</td><td class="num">{fmtKg(c.value)}</td></tr>)}</tbody>
              </table>
            </div>
          )}
          <h3>Across years</h3>
          <ErrorText error={trendError} />
          {trend ? (
            <>
              <figure>
                <Chart summary={`Scope 2 and Scope 3 from ${trend[0]?.year} to ${year}: ${trend.map((t) => `${t.year}: ${fmtKg(t.scope2)} and ${fmtKg(t.scope3)} kg`).join('; ')}.`}
                  x={trend.map((t) => String(t.year))} xKind="category" yLabel="kg CO₂e" height={220}
                  series={[
                    { label: 'Scope 2 (location)', kind: 'bars', color: '#1f7a4d', align: -1, values: trend.map((t) => t.scope2) },
                    { label: 'Scope 3', kind: 'bars', color: '#2f6690', align: 1, values: trend.map((t) => t.scope3) },
                  ]} />
                <figcaption>Scope 2 (location-based) and Scope 3 per reporting year, kg CO₂e</figcaption>
              </figure>
              <div class="table-wrap">
                <table>
                  <caption>Per year</caption>
                  <thead><tr><th scope="col">Year</th><th scope="col" class="num">Scope 2 (location)</th><th scope="col" class="num">Scope 3</th></tr></thead>
                  <tbody>{trend.map((t) => <tr key={t.year}><th scope="row">{t.year}</th><td class="num">{fmtKg(t.scope2)}</td><td class="num">{fmtKg(t.scope3)}</td></tr>)}</tbody>
                </table>
              </div>
            </>
          ) : <p role="status">Loading earlier years…</p>}
        </>
      )}
    </section>
  );
}

export function Inventory() {
  const { mode } = useConsole();
  const [version, setVersion] = useState(0);
  return (
    <section>
      <PageHeading>Inventory</PageHeading>
      {mode === 'test' && <p class="note">Sandbox mode shows a fixed example inventory of 12 assets (2023–2025), the same for everyone.</p>}
      <ImportPanel onImported={() => setVersion((v) => v + 1)} />
      <InventoryPanel version={version} />
    </section>
  );
}
