//! Email verification (`#/verify?token=…`, the emailed link): posts the token once
//! (`POST /auth/verify-email`), scrubs it from the address bar, says the outcome, and re-reads
//! the session so live mode unlocks.
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, unwrap } from '../api/client';
import { scrubHash } from '../router';
import { useConsole } from '../session';
import { ErrorText, PageHeading } from '../components/ui';

export function Verify({ params }: { params: URLSearchParams }) {
  const { session, refresh } = useConsole();
  const [token] = useState(() => {
    const t = params.get('token') ?? '';
    if (t) scrubHash('verify');
    return t;
  });
  const [state, setState] = useState<'working' | 'done' | 'failed' | 'missing'>(token ? 'working' : 'missing');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return;
    let live = true;
    (async () => {
      try {
        unwrap(await api.POST('/auth/verify-email', { body: { token } }));
        if (!live) return;
        setState('done');
        if (session) await refresh();
      } catch (e) {
        if (!live) return;
        setState('failed');
        setError(messageOf(e));
      }
    })();
    return () => { live = false; };
    // Post the token once, whatever the session does meanwhile.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  return (
    <section class="narrow">
      <PageHeading>Verify your email</PageHeading>
      {state === 'working' && <p role="status">Verifying…</p>}
      {state === 'done' && (
        <p role="status">Your email is verified: live mode is available.{' '}
          {session ? <a href="#/keys">Go to your keys</a> : <a href="#/signin">Sign in</a>}.</p>
      )}
      {state === 'failed' && <ErrorText error={`The link did not work: ${error ?? ''} A link works once, and not after it expires.`} />}
      {state === 'missing' && <p>Open the link from the email we sent you; it carries the code this page needs.</p>}
    </section>
  );
}
