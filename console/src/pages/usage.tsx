//! Usage: this minute's and today's calls in the chosen mode against the plan's limits
//! (`GET /usage`, as meters with the figures in words), and the last 30 days in both modes
//! (`GET /usage/history?days=30`) as a chart with the daily limit drawn as a line, and as a table.
import { api, unwrap } from '../api/client';
import { useConsole } from '../session';
import { Chart } from '../components/chart';
import { ErrorText, Meter, PageHeading, fmtDate, fmtInt, useLoad } from '../components/ui';

export function Usage() {
  const { mode } = useConsole();
  const now = useLoad(async () => unwrap(await api.GET('/usage')), [mode]);
  const history = useLoad(async () => unwrap(await api.GET('/usage/history', { params: { query: { days: 30 } } })), []);

  const u = now.data;
  const h = history.data;
  const days = h?.days ?? [];
  const perDay = h?.limits.per_day ?? null;
  const totalLive = days.reduce((a, d) => a + d.live, 0);
  const totalTest = days.reduce((a, d) => a + d.test, 0);

  return (
    <section>
      <PageHeading>Usage</PageHeading>
      <div class="toolbar">
        <button type="button" onClick={() => { void now.reload(); void history.reload(); }}>Refresh</button>
      </div>

      <h2>{mode === 'live' ? 'Live' : 'Sandbox'} calls now</h2>
      <ErrorText error={now.error} />
      {now.loading && !u && <p role="status">Loading usage…</p>}
      {u && (
        <div class="meters">
          <p>Plan <b>{u.plan}</b>. Limits are shared by all of the organisation's {mode === 'live' ? 'live' : 'sandbox'} keys.</p>
          <Meter label="This minute" used={u.used.this_minute ?? 0} limit={u.limits.per_minute} />
          <Meter label="Today (UTC)" used={u.used.today ?? 0} limit={u.limits.per_day} />
          <p class="hint">The minute resets {u.resets.minute_in_s != null ? `in ${u.resets.minute_in_s} s` : 'each minute'};
            the day at {fmtDate(u.resets.day_at)}.</p>
        </div>
      )}

      <h2>The last 30 days</h2>
      <ErrorText error={history.error} />
      {history.loading && !h && <p role="status">Loading history…</p>}
      {h && (
        <>
          <figure>
            <Chart
              summary={`Calls per day over the last ${days.length} days: ${fmtInt(totalLive)} live and ${fmtInt(totalTest)} sandbox${perDay != null ? `; daily limit ${fmtInt(perDay)} per mode` : ''}.`}
              x={days.map((d) => d.day)} xKind="day" yLabel="calls"
              series={[
                { label: 'Live', kind: 'bars', color: '#1f7a4d', align: -1, values: days.map((d) => d.live) },
                { label: 'Sandbox', kind: 'bars', color: '#8fb8a3', align: 1, values: days.map((d) => d.test) },
                ...(perDay != null ? [{ label: 'Daily limit', kind: 'line' as const, color: '#b3261e', dash: [6, 4], values: days.map(() => perDay) }] : []),
              ]}
            />
            <figcaption>Calls per day (UTC), live and sandbox{perDay != null ? ', with the daily limit of each mode' : ''}.</figcaption>
          </figure>
          <div class="table-wrap">
            <table id="usage-table">
              <caption>Calls per day</caption>
              <thead><tr><th scope="col">Day (UTC)</th><th scope="col" class="num">Live</th><th scope="col" class="num">Sandbox</th></tr></thead>
              <tbody>
                {[...days].reverse().map((d) => (
                  <tr key={d.day}><th scope="row">{d.day}</th><td class="num">{fmtInt(d.live)}</td><td class="num">{fmtInt(d.test)}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
