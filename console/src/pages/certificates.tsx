//! Certificates issued by the organisation in the chosen mode (`GET /certificates`, 50 a page
//! with a cursor): download the signed PDF (fetched with the session and mode header, saved
//! through an object URL), open the public verification, revoke (confirmed).
import { useState } from 'preact/hooks';
import { api, fetchBlob, messageOf, saveBlob, unwrap } from '../api/client';
import type { CertificateRow } from '../api/types';
import { useConsole } from '../session';
import { ConfirmDialog, ErrorText, PageHeading, fmtDate, fmtKg, usePages } from '../components/ui';

export function Certificates() {
  const { mode, announce } = useConsole();
  const { rows, cursor, loading, error, setError, load } = usePages<CertificateRow>(async (after) =>
    unwrap(await api.GET('/certificates', { params: { query: { limit: 50, ...(after ? { cursor: after } : {}) } } })), [mode]);
  const [revoking, setRevoking] = useState<CertificateRow | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const download = async (c: CertificateRow) => {
    setError(null);
    try {
      saveBlob(await fetchBlob(c.pdf_url), `${c.id}.pdf`);
      announce(`Certificate ${c.id} downloaded.`);
    } catch (e) {
      setError(messageOf(e));
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    setDialogError(null);
    try {
      unwrap(await api.DELETE('/certificates/{id}', { params: { path: { id: revoking.id } } }));
      announce(`Certificate ${revoking.id} revoked.`);
      setRevoking(null);
      await load(null);
    } catch (e) {
      setDialogError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeading>Certificates</PageHeading>
      <p>Signed CO₂e certificates issued with your {mode === 'live' ? 'live' : 'sandbox'} keys (<code>POST /api/v1/certificates</code>).
        {mode === 'test' && ' Sandbox certificates are unsigned examples and are not kept, so this list stays empty in sandbox mode.'}</p>
      <ErrorText error={error} />
      {loading && rows.length === 0 && <p role="status">Loading certificates…</p>}
      {!loading && !error && rows.length === 0 && <p>No certificates yet.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Certificates</caption>
            <thead><tr><th scope="col">Issued</th><th scope="col">Certificate</th><th scope="col">Product</th><th scope="col">Serial</th><th scope="col">Category</th><th scope="col" class="num">kg CO₂e</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id} data-certificate-id={c.id}>
                  <td>{fmtDate(c.issued_at)}</td>
                  <td class="mono">{c.id}</td>
                  <td>{c.product ?? '—'}</td>
                  <td class="mono">{c.serial ?? '—'}</td>
                  <td>{c.category ?? '—'}</td>
                  <td class="num">{fmtKg(c.total_kg_co2e)}</td>
                  <td>{c.revoked_at ? `Revoked ${fmtDate(c.revoked_at)}` : 'Valid'}</td>
                  <td class="row-actions">
                    <button type="button" aria-label={`Download the PDF of ${c.id}`} onClick={() => void download(c)}>Download PDF</button>
                    <a class="button" href={c.verification_url} target="_blank" rel="noopener noreferrer" aria-label={`Verify ${c.id} (opens a new tab)`}>Verify</a>
                    {!c.revoked_at && (
                      <button type="button" class="danger" aria-label={`Revoke certificate ${c.id}`} onClick={() => { setDialogError(null); setRevoking(c); }}>Revoke</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" onClick={() => void load(cursor)} disabled={loading}>{loading ? 'Loading…' : 'Load more'}</button>}

      <ConfirmDialog open={revoking !== null} title={`Revoke certificate ${revoking?.id ?? ''}?`} confirmLabel="Revoke certificate" danger
        busy={busy} error={dialogError} onConfirm={revoke} onCancel={() => setRevoking(null)}>
        <p>This cannot be undone. Anyone verifying it will be told it was revoked.</p>
      </ConfirmDialog>
    </section>
  );
}
