//! Reports: start a fleet report (`sustainability` or `hotspot`, over listed devices or the
//! stored assets) or a GHG inventory PDF (`POST /reports`, 202), list them (`GET /reports`),
//! follow the unfinished ones (`GET /reports/{id}` every 1.5 s, slower when throttled) and
//! download a finished one's PDF (`?format=pdf`, fetched as a blob).
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, api, messageOf, saveBlob, sleep, unwrap } from '../api/client';
import type { JobStatus, Report, ReportRequest } from '../api/types';
import { useConsole } from '../session';
import { ErrorText, Field, PageHeading, Select, fmtDate, usePages } from '../components/ui';

type Kind = 'sustainability' | 'hotspot' | 'ghg_inventory';

const EXAMPLE_DEVICES = JSON.stringify([
  { product: { id: 'dell--latitude-5420' }, use: { country: 'FR' } },
  { category: 'monitor', use: { country: 'PL' } },
  { category: 'laptop' },
], null, 2);
const POLL_MS = 1500;
const TYPE_NAMES: Record<string, string> = { sustainability: 'Sustainability', hotspot: 'Hotspot', ghg_inventory: 'GHG inventory' };
const STATUS_NAMES: Record<JobStatus, string> = { queued: 'Queued', running: 'Running', done: 'Done', failed: 'Failed' };

function isActive(s: JobStatus): boolean { return s === 'queued' || s === 'running'; }

export function Reports() {
  const { mode, announce } = useConsole();
  const { rows, setRows, cursor, loading, error: listError, setError: setListError, load } = usePages<Report>(async (after) =>
    unwrap(await api.GET('/reports', { params: { query: { limit: 50, ...(after ? { cursor: after } : {}) } } })), [mode]);

  const [kind, setKind] = useState<Kind>('sustainability');
  const [source, setSource] = useState<'devices' | 'assets'>('devices');
  const [devices, setDevices] = useState(EXAMPLE_DEVICES);
  const [title, setTitle] = useState('');
  const [year, setYear] = useState(String(new Date().getUTCFullYear() - 1));
  const [view, setView] = useState<'ghg' | 'amortised'>('ghg');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [createError, setCreateError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const devicesId = useId();


  // Follow every unfinished report until it is done or failed.
  const active = rows.filter((r) => isActive(r.status)).map((r) => r.id).join(',');
  const announceRef = useRef(announce);
  announceRef.current = announce;
  useEffect(() => {
    if (!active) return;
    let stop = false;
    (async () => {
      let wait = POLL_MS;
      while (!stop) {
        await sleep(wait);
        wait = POLL_MS;
        for (const id of active.split(',')) {
          if (stop) return;
          try {
            const r = unwrap(await api.GET('/reports/{id}', { params: { path: { id } } }));
            if (stop) return;
            setRows((rs) => rs.map((x) => (x.id === id ? { ...x, ...r } : x)));
            if (!isActive(r.status)) {
              announceRef.current(r.status === 'done' ? `Report ${id} is ready to download.` : `Report ${id} failed: ${r.reason ?? 'no reason given'}.`);
              return; // the rows changed: the effect restarts with what is still active
            }
          } catch (e) {
            if (e instanceof ApiError && e.status === 429) wait = Math.max(POLL_MS, (e.retryAfter ?? 5) * 1000);
            else if (!stop) setListError(messageOf(e));
          }
        }
      }
    })();
    return () => { stop = true; };
  }, [active]);

  const create = async (e: Event) => {
    e.preventDefault();
    setCreateError(null);
    setFields({});
    let body: Record<string, unknown>;
    if (kind === 'ghg_inventory') {
      body = { type: kind, year: Number(year), view };
    } else {
      body = { type: kind };
      if (title.trim()) body.title = title.trim();
      if (source === 'assets') body.source = 'assets';
      else {
        try {
          const list: unknown = JSON.parse(devices);
          if (!Array.isArray(list) || list.length === 0) throw new Error('not a list');
          body.devices = list;
        } catch {
          setFields({ devices: 'Give a JSON list of devices, e.g. [{"category":"laptop"}].' });
          return;
        }
      }
    }
    setBusy(true);
    try {
      // The generated type makes `view` (it has a default) required for every report type,
      // but the API refuses `view` on a fleet report: the body is built above by type.
      const r = unwrap(await api.POST('/reports', { body: body as ReportRequest }));
      setRows((rs) => [{ type: kind, created_at: new Date().toISOString(), ...r }, ...rs.filter((x) => x.id !== r.id)]);
      announce(`Report ${r.id} queued.`);
    } catch (err) {
      setCreateError(messageOf(err));
      if (err instanceof ApiError) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  const download = async (r: Report) => {
    setListError(null);
    try {
      const res = await api.GET('/reports/{id}', { params: { path: { id: r.id }, query: { format: 'pdf' } }, parseAs: 'blob' });
      saveBlob(unwrap(res), `${r.id}.pdf`);
      announce(`Report ${r.id} downloaded.`);
    } catch (e) {
      setListError(messageOf(e));
    }
  };

  return (
    <section>
      <PageHeading>Reports</PageHeading>
      {mode === 'test' && <p class="note">Reports are made from live data: the sandbox answers report requests with an error. Switch to Live to make one.</p>}

      <h2>New report</h2>
      <form onSubmit={create} noValidate>
        <Select label="Report" name="type" value={kind} onChange={(v) => setKind(v as Kind)} error={fields.type}
          options={[['sustainability', 'Sustainability (fleet totals, categories, countries)'], ['hotspot', 'Hotspot (what dominates, levers)'], ['ghg_inventory', 'GHG inventory of a reporting year']]} />
        {kind === 'ghg_inventory' ? (
          <div class="inline-form">
            <Field label="Reporting year" name="year" type="number" min={1990} max={2100} value={year} onInput={setYear} error={fields.year} />
            <Select label="View" name="view" value={view} onChange={(v) => setView(v as 'ghg' | 'amortised')} error={fields.view}
              options={[['ghg', 'GHG Protocol (embodied in the purchase year)'], ['amortised', 'Amortised over the lifetime']]} />
          </div>
        ) : (
          <>
            <Field label="Title (optional)" name="title" value={title} onInput={setTitle} error={fields.title} />
            <fieldset>
              <legend>Devices</legend>
              <label class="check"><input type="radio" name="source" value="devices" checked={source === 'devices'} onChange={() => setSource('devices')} /> Listed here</label>
              <label class="check"><input type="radio" name="source" value="assets" checked={source === 'assets'} onChange={() => setSource('assets')} /> The organisation's stored assets</label>
            </fieldset>
            {source === 'devices' && (
              <div class="field">
                <label for={devicesId}>Devices (a JSON list of footprint requests)</label>
                <textarea id={devicesId} name="devices" rows={8} class="mono" spellcheck={false} value={devices}
                  aria-invalid={fields.devices ? 'true' : undefined}
                  onInput={(e) => setDevices((e.currentTarget as HTMLTextAreaElement).value)} />
                {fields.devices && <p class="field-error">{fields.devices}</p>}
              </div>
            )}
          </>
        )}
        <ErrorText error={createError} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Starting…' : 'Create report'}</button>
      </form>

      <h2>Your reports</h2>
      <ErrorText error={listError} />
      {loading && rows.length === 0 && <p role="status">Loading reports…</p>}
      {!loading && rows.length === 0 && !listError && <p>No reports yet.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Reports</caption>
            <thead><tr><th scope="col">Report</th><th scope="col">Title</th><th scope="col">Type</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-report-id={r.id} data-status={r.status}>
                  <td class="mono">{r.id}</td>
                  <td>{r.title ?? '—'}</td>
                  <td>{r.type ? (TYPE_NAMES[r.type] ?? r.type) : '—'}</td>
                  <td>{fmtDate(r.created_at)}</td>
                  <td>
                    {isActive(r.status)
                      ? <span class="progress"><progress aria-label={`Report ${r.id} in progress`} /> {STATUS_NAMES[r.status]}…</span>
                      : r.status === 'failed' ? `Failed: ${r.reason ?? 'no reason given'}` : `${STATUS_NAMES[r.status]} ${fmtDate(r.finished_at)}`}
                  </td>
                  <td class="row-actions">
                    {r.status === 'done' && <button type="button" aria-label={`Download the PDF of ${r.id}`} onClick={() => void download(r)}>Download PDF</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" onClick={() => void load(cursor)} disabled={loading}>{loading ? 'Loading…' : 'Load more'}</button>}
    </section>
  );
}
