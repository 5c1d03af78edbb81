//! Sign up (`POST /auth/signup`): email, password (at least 12 characters), organisation. The
//! answer holds the session and the organisation's first sandbox key, shown here once with a
//! Copy button and a curl example for the first call.
import { useState } from 'preact/hooks';
import { api, ApiError, messageOf, unwrap } from '../api/client';
import type { Session } from '../api/types';
import { ErrorText, Field, PageHeading, SecretBox } from '../components/ui';

export const MIN_PASSWORD = 12;

export function SignUp({ onSession }: { onSession: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [organisation, setOrganisation] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Session | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const local: Record<string, string> = {};
    if (!email.includes('@')) local.email = 'Enter an email address.';
    if (password.length < MIN_PASSWORD) local.password = `At least ${MIN_PASSWORD} characters.`;
    if (!organisation.trim()) local.organisation = 'Name your organisation.';
    setFields(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      setDone(unwrap(await api.POST('/auth/signup', { body: { email, password, organisation: organisation.trim() } })));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? (err.problem?.detail ?? 'An account with this email already exists.') : messageOf(err));
      if (err instanceof ApiError) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    const key = done.key?.key ?? '';
    const curl = `curl -X POST ${location.origin}/api/v1/footprint \\\n  -H "Authorization: Bearer ${key}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"category":"laptop"}'`;
    return (
      <section class="narrow">
        <PageHeading>Welcome, {done.organisation.name}</PageHeading>
        <p>Your account is ready. Here is your first <b>sandbox key</b>: sandbox calls answer
          fixed examples, never touch live data and have their own quota.</p>
        {key
          ? <SecretBox label="Your sandbox key" value={key} />
          : <p class="note">Make your first key on the <a href="#/keys">API keys</a> page.</p>}
        <h2>Your first call</h2>
        <pre class="code" tabIndex={0} aria-label="curl example"><code>{curl}</code></pre>
        <p>We sent a link to <b>{done.user.email}</b>: verify your email to use live mode.</p>
        <button type="button" class="primary" onClick={() => onSession(done)}>Continue to the console</button>
      </section>
    );
  }

  return (
    <section class="narrow">
      <PageHeading>Create your account</PageHeading>
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required value={email} onInput={setEmail} error={fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD}
          hint={`At least ${MIN_PASSWORD} characters.`} value={password} onInput={setPassword} error={fields.password} />
        <Field label="Organisation" name="organisation" autoComplete="organization" required value={organisation} onInput={setOrganisation} error={fields.organisation} />
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating…' : 'Sign up'}</button>
      </form>
      <p>Already have an account? <a href="#/signin">Sign in</a>.</p>
    </section>
  );
}
