//! Members of the organisation and open invitations (`GET /members`). The owner invites by
//! email (`POST /members/invites`: the invitation link is shown once, to pass on), withdraws an
//! invitation and removes a member (both confirmed); a member sees the list only.
import { useState } from 'preact/hooks';
import { api, ApiError, messageOf, unwrap } from '../api/client';
import type { Invite, Member } from '../api/types';
import { useConsole, useSession } from '../session';
import { ConfirmDialog, ErrorText, Field, PageHeading, SecretBox, fmtDate, useLoad } from '../components/ui';

type Pending = { kind: 'invite'; invite: Invite } | { kind: 'member'; member: Member };

export function Members() {
  const session = useSession();
  const { announce } = useConsole();
  const owner = session.role === 'owner';
  const list = useLoad(async () => unwrap(await api.GET('/members')), []);
  const [email, setEmail] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Invite | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [dialogBusy, setDialogBusy] = useState(false);

  const invite = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setFields({});
    if (!email.includes('@')) { setFields({ email: 'Enter an email address.' }); return; }
    setBusy(true);
    try {
      const inv = unwrap(await api.POST('/members/invites', { body: { email } }));
      setCreated(inv);
      setEmail('');
      announce(`Invitation for ${inv.email} created.`);
      await list.reload();
    } catch (err) {
      setError(messageOf(err));
      if (err instanceof ApiError) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    if (!pending) return;
    setDialogBusy(true);
    setDialogError(null);
    try {
      if (pending.kind === 'invite') {
        unwrap(await api.DELETE('/members/invites/{id}', { params: { path: { id: pending.invite.id } } }));
        announce(`Invitation for ${pending.invite.email} withdrawn.`);
      } else {
        unwrap(await api.DELETE('/members/{id}', { params: { path: { id: pending.member.user_id } } }));
        announce(`${pending.member.email} removed from the organisation.`);
      }
      setPending(null);
      await list.reload();
    } catch (err) {
      setDialogError(messageOf(err));
    } finally {
      setDialogBusy(false);
    }
  };

  const members = list.data?.data ?? [];
  const invites = list.data?.invites ?? [];
  return (
    <section>
      <PageHeading>Members</PageHeading>
      {!owner && <p class="note">Only the organisation's owner invites and removes members.</p>}
      {owner && (
        <>
          <h2>Invite someone</h2>
          <form class="inline-form" onSubmit={invite} noValidate>
            <Field label="Email" name="email" type="email" autoComplete="off" value={email} onInput={setEmail} error={fields.email} />
            <button type="submit" class="primary" disabled={busy}>{busy ? 'Inviting…' : 'Invite'}</button>
          </form>
          <ErrorText error={error} />
          {created?.invite_url && (
            <div class="panel" role="region" aria-label="New invitation">
              <h3>Invitation for {created.email}</h3>
              <SecretBox label="Invitation link" value={created.invite_url}
                warning={`Send this link to ${created.email} yourself: it is shown only once and works until ${fmtDate(created.expires_at)}.`} />
              <button type="button" onClick={() => setCreated(null)}>Done</button>
            </div>
          )}
        </>
      )}

      <h2>Members</h2>
      <ErrorText error={list.error} />
      {list.loading && !list.data && <p role="status">Loading members…</p>}
      {members.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Members</caption>
            <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Joined</th>{owner && <th scope="col"><span class="visually-hidden">Actions</span></th>}</tr></thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.user_id}>
                  <td>{m.email}{m.user_id === session.user.id && ' (you)'}</td>
                  <td>{m.role}</td>
                  <td>{fmtDate(m.joined_at)}</td>
                  {owner && (
                    <td class="row-actions">
                      {m.user_id !== session.user.id && (
                        <button type="button" class="danger" aria-label={`Remove ${m.email}`} onClick={() => { setDialogError(null); setPending({ kind: 'member', member: m }); }}>Remove</button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Open invitations</h2>
      {list.data && invites.length === 0 && <p>None.</p>}
      {invites.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Open invitations</caption>
            <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Sent</th><th scope="col">Expires</th>{owner && <th scope="col"><span class="visually-hidden">Actions</span></th>}</tr></thead>
            <tbody>
              {invites.map((i) => (
                <tr key={i.id}>
                  <td>{i.email}</td>
                  <td>{i.role}</td>
                  <td>{fmtDate(i.created_at)}</td>
                  <td>{fmtDate(i.expires_at)}</td>
                  {owner && (
                    <td class="row-actions">
                      <button type="button" class="danger" aria-label={`Withdraw the invitation for ${i.email}`} onClick={() => { setDialogError(null); setPending({ kind: 'invite', invite: i }); }}>Withdraw</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <ConfirmDialog open={pending !== null} danger busy={dialogBusy} error={dialogError} onConfirm={confirm} onCancel={() => setPending(null)}
        title={pending?.kind === 'member' ? `Remove ${pending.member.email}?` : `Withdraw the invitation for ${pending?.kind === 'invite' ? pending.invite.email : ''}?`}
        confirmLabel={pending?.kind === 'member' ? 'Remove member' : 'Withdraw invitation'}>
        <p>{pending?.kind === 'member'
          ? 'They lose access to the organisation at once and are signed out. This cannot be undone; you can invite them again.'
          : 'The link stops working. This cannot be undone; you can invite them again.'}</p>
      </ConfirmDialog>
    </section>
  );
}
