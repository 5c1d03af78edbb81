//! Sign in (`POST /auth/login`): email and password; a refusal (401) or a throttle (429, with
//! Retry-After) is said next to the form. On success the shell takes the session. `embedded`:
//! the form alone, inside another page (email verification).
import { useState } from 'preact/hooks';
import { api, ApiError, messageOf, unwrap } from '../api/client';
import type { Session } from '../api/types';
import { ErrorText, Field, PageHeading } from '../components/ui';

export function SignIn({ onSession, embedded = false }: { onSession: (s: Session) => void; embedded?: boolean }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      onSession(unwrap(await api.POST('/auth/login', { body: { email, password } })));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('Wrong email or password.');
      else {
        setError(messageOf(err));
        if (err instanceof ApiError) setFields(err.fields);
      }
    } finally {
      setBusy(false);
    }
  };

  const form = (
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required value={email} onInput={setEmail} error={fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onInput={setPassword} error={fields.password} />
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
  );
  // Inside another page (email verification), the form alone.
  if (embedded) return form;
  return (
    <section class="narrow">
      <PageHeading>Sign in</PageHeading>
      {form}
      <p>New to CarbonTrace? <a href="#/signup">Create an account</a>.</p>
    </section>
  );
}
