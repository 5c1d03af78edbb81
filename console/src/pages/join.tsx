//! Accept an invitation (`#/join?token=…`, the link an owner shared): choose a password, then
//! `POST /auth/accept-invite` answers a session. The token is taken from the fragment into
//! memory and scrubbed from the address bar at once.
import { useState } from 'preact/hooks';
import { api, ApiError, messageOf, unwrap } from '../api/client';
import type { Session } from '../api/types';
import { scrubHash } from '../router';
import { ErrorText, Field, PageHeading } from '../components/ui';
import { MIN_PASSWORD } from './signup';

export function Join({ params, onSession }: { params: URLSearchParams; onSession: (s: Session) => void }) {
  const [token] = useState(() => {
    const t = params.get('token') ?? '';
    if (t) scrubHash('join');
    return t;
  });
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const local: Record<string, string> = {};
    if (password.length < MIN_PASSWORD) local.password = `At least ${MIN_PASSWORD} characters.`;
    else if (password !== confirm) local.confirm = 'The two passwords differ.';
    setFields(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      onSession(unwrap(await api.POST('/auth/accept-invite', { body: { token, password } })));
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 404 || err.status === 410)
        ? 'This invitation is not valid any more (used, revoked or expired). Ask for a new one.'
        : messageOf(err));
      if (err instanceof ApiError) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  if (!token) {
    return (
      <section class="narrow">
        <PageHeading>Join an organisation</PageHeading>
        <p>This page needs the invitation link you were sent. Open that link again, or ask the
          organisation's owner for a new invitation.</p>
      </section>
    );
  }
  return (
    <section class="narrow">
      <PageHeading>Join an organisation</PageHeading>
      <p>Choose a password to accept the invitation.</p>
      <form onSubmit={submit} noValidate>
        <Field label="Password" name="password" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD}
          hint={`At least ${MIN_PASSWORD} characters.`} value={password} onInput={setPassword} error={fields.password} />
        <Field label="Repeat the password" name="confirm" type="password" autoComplete="new-password" required value={confirm} onInput={setConfirm} error={fields.confirm} />
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Joining…' : 'Accept the invitation'}</button>
      </form>
    </section>
  );
}
