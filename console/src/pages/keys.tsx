//! API keys of the organisation in the chosen mode (`GET /keys`): create (`POST /keys`, the
//! secret shown once), roll (`POST /keys/{id}/roll` with a grace period, confirmed) and revoke
//! (`DELETE /keys/{id}`, confirmed). Owners only: a member sees a note instead of controls.
import { useState } from 'preact/hooks';
import { ApiError, api, messageOf, unwrap } from '../api/client';
import type { KeyCreated, KeyView } from '../api/types';
import { useConsole, useSession } from '../session';
import { ConfirmDialog, ErrorText, Field, PageHeading, SecretBox, Select, fmtDate, useLoad } from '../components/ui';

const GRACE: ReadonlyArray<readonly [string, string]> = [
  ['0', 'Stop the old key at once'],
  ['3600', 'Keep the old key working for 1 hour'],
  ['86400', 'Keep the old key working for 24 hours'],
  ['604800', 'Keep the old key working for 7 days'],
];

function keyLabel(k: KeyView): string {
  return `${k.name ?? 'unnamed'} (${k.prefix}…)`;
}

function status(k: KeyView): { text: string; active: boolean } {
  if (k.revoked_at) return { text: `Revoked ${fmtDate(k.revoked_at)}`, active: false };
  if (k.expires_at) {
    const ended = new Date(k.expires_at).getTime() <= Date.now();
    return { text: ended ? `Rolled, ended ${fmtDate(k.expires_at)}` : `Rolled, works until ${fmtDate(k.expires_at)}`, active: false };
  }
  return { text: 'Active', active: true };
}

export function Keys() {
  const session = useSession();
  const { mode, announce } = useConsole();
  const owner = session.role === 'owner';
  const list = useLoad(async () => (owner ? unwrap(await api.GET('/keys')).data : []), [owner, mode]);

  const [name, setName] = useState('');
  const [role, setRole] = useState<'standard' | 'admin'>('standard');
  const [createError, setCreateError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<{ title: string; created: KeyCreated } | null>(null);

  const [rolling, setRolling] = useState<KeyView | null>(null);
  const [grace, setGrace] = useState('0');
  const [revoking, setRevoking] = useState<KeyView | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [dialogBusy, setDialogBusy] = useState(false);

  if (!owner) {
    return (
      <section>
        <PageHeading>API keys</PageHeading>
        <p class="note">Only the organisation's owner manages API keys. Ask them for a key.</p>
      </section>
    );
  }

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setCreateError(null);
    setFields({});
    try {
      const created = unwrap(await api.POST('/keys', { body: { name: name.trim() || null, mode, role } }));
      setSecret({ title: `New ${mode === 'live' ? 'live' : 'sandbox'} key “${created.name ?? 'unnamed'}”`, created });
      setName('');
      announce(`Key ${created.prefix}… created.`);
      await list.reload();
    } catch (err) {
      setCreateError(err instanceof ApiError && err.code === 'key_limit_reached'
        ? `${err.message} Revoke keys you no longer use first.`
        : messageOf(err));
      if (err instanceof ApiError) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  const closeDialogs = () => { setRolling(null); setRevoking(null); setDialogError(null); setGrace('0'); };

  const roll = async () => {
    if (!rolling) return;
    setDialogBusy(true);
    setDialogError(null);
    try {
      const created = unwrap(await api.POST('/keys/{id}/roll', { params: { path: { id: rolling.id } }, body: { expires_in_s: Number(grace) } }));
      setSecret({ title: `Rolled “${rolling.name ?? 'unnamed'}”: its new secret`, created });
      announce(`Key ${rolling.prefix}… rolled; the new key is ${created.prefix}….`);
      closeDialogs();
      await list.reload();
    } catch (err) {
      setDialogError(messageOf(err));
    } finally {
      setDialogBusy(false);
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    setDialogBusy(true);
    setDialogError(null);
    try {
      unwrap(await api.DELETE('/keys/{id}', { params: { path: { id: revoking.id } } }));
      announce(`Key ${revoking.prefix}… revoked.`);
      closeDialogs();
      await list.reload();
    } catch (err) {
      setDialogError(messageOf(err));
    } finally {
      setDialogBusy(false);
    }
  };

  const keys = list.data ?? [];
  return (
    <section>
      <PageHeading>API keys</PageHeading>
      <p>{mode === 'live'
        ? 'Live keys compute real footprints and count against your live quota.'
        : 'Sandbox keys (ct_test_…) answer fixed examples and never touch live data.'}</p>

      {secret && (
        <div class="panel" role="region" aria-label="New key">
          <h2>{secret.title}</h2>
          {secret.created.key
            ? <SecretBox label={`Secret of ${secret.created.prefix}…`} value={secret.created.key} />
            : <p>The secret was shown when the key was first made and cannot be shown again.</p>}
          {secret.created.rolled && (
            <p>The old key {secret.created.rolled.expires_at && new Date(secret.created.rolled.expires_at).getTime() > Date.now()
              ? `keeps working until ${fmtDate(secret.created.rolled.expires_at)}.`
              : 'stopped working.'}</p>
          )}
          <button type="button" onClick={() => setSecret(null)}>I have saved it</button>
        </div>
      )}

      <h2>Create a {mode === 'live' ? 'live' : 'sandbox'} key</h2>
      <form class="inline-form" onSubmit={create} noValidate>
        <Field label="Name" name="name" value={name} onInput={setName} error={fields.name} hint="To recognise it later, e.g. “CI pipeline”." />
        <Select label="Role" name="role" value={role} onChange={(v) => setRole(v as 'standard' | 'admin')} error={fields.role}
          options={[['standard', 'Standard: calls the API'], ['admin', 'Admin: also manages keys']]} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating…' : 'Create key'}</button>
      </form>
      <ErrorText error={createError} />

      <h2>Your {mode === 'live' ? 'live' : 'sandbox'} keys</h2>
      <ErrorText error={list.error} />
      {list.loading && !list.data && <p role="status">Loading keys…</p>}
      {list.data && keys.length === 0 && <p>No keys yet.</p>}
      {keys.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">API keys</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Mode</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {keys.map((k) => {
                const st = status(k);
                return (
                  <tr key={k.id} data-key-id={k.id}>
                    <td>{k.name ?? <i>unnamed</i>}</td>
                    <td class="mono">{k.prefix}…</td>
                    <td>{k.mode === 'live' ? 'Live' : 'Sandbox'}</td>
                    <td>{k.role}</td>
                    <td>{fmtDate(k.created_at)}</td>
                    <td>{fmtDate(k.last_used_at)}</td>
                    <td>{st.text}</td>
                    <td class="row-actions">
                      {st.active && <>
                        <button type="button" aria-label={`Roll key ${keyLabel(k)}`} onClick={() => { setDialogError(null); setRolling(k); }}>Roll</button>
                        <button type="button" class="danger" aria-label={`Revoke key ${keyLabel(k)}`} onClick={() => { setDialogError(null); setRevoking(k); }}>Revoke</button>
                      </>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <ConfirmDialog open={rolling !== null} title={`Roll key ${rolling ? keyLabel(rolling) : ''}?`} confirmLabel="Roll key"
        busy={dialogBusy} error={dialogError} onConfirm={roll} onCancel={closeDialogs}>
        <p>A new secret replaces this key, with the same name, mode and role. Update the places that use it.</p>
        <Select label="The old key" name="grace" value={grace} onChange={setGrace} options={GRACE} />
      </ConfirmDialog>
      <ConfirmDialog open={revoking !== null} title={`Revoke key ${revoking ? keyLabel(revoking) : ''}?`} confirmLabel="Revoke key" danger
        busy={dialogBusy} error={dialogError} onConfirm={revoke} onCancel={closeDialogs}>
        <p>This cannot be undone. Every call made with it is refused within 5 seconds.</p>
      </ConfirmDialog>
    </section>
  );
}
