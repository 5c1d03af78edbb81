//! Your account: who you are, in which organisation, whether the email is verified, and a
//! password change (`POST /auth/password`: the answer is a fresh session; every other session
//! of the account is signed out).
import { useState } from 'preact/hooks';
import { api, ApiError, messageOf, unwrap } from '../api/client';
import { useConsole, useSession } from '../session';
import { ErrorText, Field, PageHeading, fmtDate } from '../components/ui';
import { MIN_PASSWORD } from './signup';

export function Account() {
  const session = useSession();
  const { setSession, announce } = useConsole();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const local: Record<string, string> = {};
    if (!current) local.current_password = 'Enter your current password.';
    if (next.length < MIN_PASSWORD) local.new_password = `At least ${MIN_PASSWORD} characters.`;
    else if (next !== repeat) local.repeat = 'The two new passwords differ.';
    setFields(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const s = unwrap(await api.POST('/auth/password', { body: { current_password: current, new_password: next } }));
      setSession(s);
      setCurrent(''); setNext(''); setRepeat('');
      announce('Password changed. Your other sessions were signed out.');
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403) && !Object.keys(err.fields).length) {
        setFields({ current_password: 'This is not your current password.' });
      } else {
        setError(messageOf(err));
        if (err instanceof ApiError) setFields(err.fields);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeading>Account</PageHeading>
      <dl class="facts">
        <dt>Email</dt><dd>{session.user.email} {session.user.email_verified ? <span class="badge ok">verified</span> : <span class="badge warn">not verified</span>}</dd>
        <dt>Organisation</dt><dd>{session.organisation.name}</dd>
        <dt>Role</dt><dd>{session.role}</dd>
        <dt>Plan</dt><dd>{session.organisation.plan}</dd>
        <dt>Session ends</dt><dd>{fmtDate(session.expires_at)}</dd>
      </dl>
      {!session.user.email_verified && <p class="note">Open the link in the email we sent to {session.user.email} to verify it and unlock live mode.</p>}
      <h2>Change your password</h2>
      <form onSubmit={submit} noValidate class="narrow-form">
        <Field label="Current password" name="current_password" type="password" autoComplete="current-password" required value={current} onInput={setCurrent} error={fields.current_password} />
        <Field label="New password" name="new_password" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD}
          hint={`At least ${MIN_PASSWORD} characters. Other sessions are signed out.`} value={next} onInput={setNext} error={fields.new_password} />
        <Field label="Repeat the new password" name="repeat" type="password" autoComplete="new-password" required value={repeat} onInput={setRepeat} error={fields.repeat} />
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Changing…' : 'Change password'}</button>
      </form>
    </section>
  );
}
