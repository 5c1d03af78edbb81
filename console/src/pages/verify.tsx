//! Email verification (`#/verify?token=…`, the emailed link). The link confirms the account
//! that is signed in when it is opened (the API refuses anyone else's), so a stranger who
//! signed up with your address cannot have you confirm it by a click. Signed out, the page asks
//! to sign in first, right here; then it posts the token once (`POST /auth/verify-email`),
//! scrubs it from the address bar, says the outcome and re-reads the session so live mode
//! unlocks.
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, unwrap } from '../api/client';
import type { Session } from '../api/types';
import { scrubHash } from '../router';
import { useConsole } from '../session';
import { ErrorText, PageHeading } from '../components/ui';
import { SignIn } from './signin';

export function Verify({ params, adopt }: { params: URLSearchParams; adopt: (s: Session) => void }) {
  const { session, refresh } = useConsole();
  const [token] = useState(() => {
    const t = params.get('token') ?? '';
    if (t) scrubHash('verify');
    return t;
  });
  const [state, setState] = useState<'waiting' | 'working' | 'done' | 'failed' | 'missing'>(token ? 'waiting' : 'missing');
  const [error, setError] = useState<string | null>(null);
  const signedIn = session !== null;

  useEffect(() => {
    if (!token || !signedIn || state !== 'waiting') return;
    let live = true;
    setState('working');
    (async () => {
      try {
        unwrap(await api.POST('/auth/verify-email', { body: { token } }));
        if (!live) return;
        setState('done');
        await refresh();
      } catch (e) {
        if (!live) return;
        setState('failed');
        setError(messageOf(e));
      }
    })();
    return () => { live = false; };
    // Post the token once, when a session is there.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token, signedIn]);

  return (
    <section class="narrow">
      <PageHeading>Verify your email</PageHeading>
      {state === 'waiting' && !signedIn && (
        <>
          <p>Sign in to the account this link was sent for: it confirms that account's email only.</p>
          <SignIn onSession={adopt} embedded />
        </>
      )}
      {state === 'working' && <p role="status">Verifying…</p>}
      {state === 'done' && (
        <p role="status">Your email is verified: live mode is available. <a href="#/keys">Go to your keys</a>.</p>
      )}
      {state === 'failed' && <ErrorText error={`The link did not work: ${error ?? ''} It works once, for the account it was sent to, and not after it expires.`} />}
      {state === 'missing' && <p>Open the link from the email we sent you; it carries the code this page needs.</p>}
    </section>
  );
}
