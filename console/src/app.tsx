//! The console's shell: reads the session (`GET /auth/me`) at start, keeps it and the chosen
//! mode in memory, draws the top navigation (pages, organisation, Sandbox/Live switch, docs,
//! sign out) and the polite live region, and routes the fragment to a page. A page that needs a
//! session shows the sign-in form in its place until there is one.
import type { ComponentType } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, messageOf, setCsrf, setMode as setClientMode, setUnauthorisedHandler, unwrap } from './api/client';
import type { Mode, Session } from './api/types';
import { ConsoleContext, type ConsoleState } from './session';
import { PUBLIC_PAGES, navigate, useRoute, type PageName } from './router';
import { Account } from './pages/account';
import { Certificates } from './pages/certificates';
import { Inventory } from './pages/inventory';
import { Join } from './pages/join';
import { Keys } from './pages/keys';
import { Members } from './pages/members';
import { Reports } from './pages/reports';
import { SignIn } from './pages/signin';
import { SignUp } from './pages/signup';
import { Usage } from './pages/usage';
import { Verify } from './pages/verify';

const NAV: ReadonlyArray<readonly [PageName, string]> = [
  ['keys', 'API keys'], ['usage', 'Usage'], ['certificates', 'Certificates'], ['reports', 'Reports'],
  ['inventory', 'Inventory'], ['members', 'Members'], ['account', 'Account'],
];
const TITLES: Record<PageName, string> = {
  keys: 'API keys', usage: 'Usage', certificates: 'Certificates', reports: 'Reports', inventory: 'Inventory',
  members: 'Members', account: 'Account', signin: 'Sign in', signup: 'Sign up', join: 'Join', verify: 'Verify your email',
};
const SIGNED_IN_PAGES: Partial<Record<PageName, ComponentType>> = {
  keys: Keys, usage: Usage, certificates: Certificates, reports: Reports, inventory: Inventory, members: Members, account: Account,
};

function homeOf(s: Session): PageName { return s.role === 'owner' ? 'keys' : 'usage'; }
function liveAllowed(s: Session | null): boolean { return !!s && s.user.email_verified && s.modes.includes('live'); }

export function App() {
  const route = useRoute();
  const [session, setSessionState] = useState<Session | null>(null);
  const [booting, setBooting] = useState(true);
  const [bootError, setBootError] = useState<string | null>(null);
  const [mode, setModeState] = useState<Mode>('test');
  const [status, setStatus] = useState('');
  const [menuOpen, setMenuOpen] = useState(false);
  const mainRef = useRef<HTMLElement>(null);

  const statusTimer = useRef<number>(0);
  const announce = useCallback((m: string) => {
    // Clear first so the same message twice is announced twice; the toast fades after 8 s.
    setStatus('');
    clearTimeout(statusTimer.current);
    statusTimer.current = window.setTimeout(() => {
      setStatus(m);
      statusTimer.current = window.setTimeout(() => setStatus(''), 8000);
    }, 50);
  }, []);

  const chooseMode = useCallback((m: Mode) => {
    setClientMode(m);
    setModeState(m);
  }, []);

  const setSession = useCallback((s: Session | null) => {
    setCsrf(s?.csrf_token ?? null);
    setSessionState(s);
    if (!liveAllowed(s)) chooseMode('test');
  }, [chooseMode]);

  const boot = useCallback(async () => {
    setBootError(null);
    try {
      const r = await api.GET('/auth/me');
      if (r.response.status === 401) setSession(null);
      else setSession(unwrap(r));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setSession(null);
      else setBootError(messageOf(e));
    } finally {
      setBooting(false);
    }
  }, [setSession]);

  useEffect(() => { void boot(); }, [boot]);

  useEffect(() => {
    setUnauthorisedHandler(() => {
      setSession(null);
      announce('Your session has ended. Sign in again.');
    });
    return () => setUnauthorisedHandler(null);
  }, [setSession, announce]);

  const refresh = useCallback(async () => {
    try { setSession(unwrap(await api.GET('/auth/me'))); } catch (e) { announce(messageOf(e)); }
  }, [setSession, announce]);

  const state = useMemo<ConsoleState>(() => ({ session, mode, setSession, refresh, announce }), [session, mode, setSession, refresh, announce]);

  // Where the fragment names no page (or a public one while signed in), go home.
  const page = route.page;
  useEffect(() => {
    if (booting) return;
    if (page === null) navigate(session ? homeOf(session) : 'signin');
    else if (session && (page === 'signin' || page === 'signup')) navigate(homeOf(session));
  }, [page, session, booting]);

  useEffect(() => {
    document.title = `${page ? TITLES[page] : 'Console'} · CarbonTrace`;
    setMenuOpen(false);
  }, [page]);

  const signOut = async () => {
    try { await api.POST('/auth/logout'); } catch { /* signed out locally either way */ }
    setSession(null);
    navigate('signin');
    announce('Signed out.');
  };

  const onSession = (s: Session) => {
    setSession(s);
    if (!page || PUBLIC_PAGES.has(page)) navigate(homeOf(s));
  };

  let body;
  if (booting) body = <p role="status">Loading…</p>;
  else if (bootError) {
    body = (
      <section class="narrow">
        <h1>The console could not start</h1>
        <p role="alert">{bootError}</p>
        <button type="button" onClick={() => void boot()}>Try again</button>
      </section>
    );
  } else if (page === 'signup') body = <SignUp onSession={onSession} />;
  else if (page === 'join') body = <Join params={route.params} onSession={onSession} />;
  else if (page === 'verify') body = <Verify params={route.params} adopt={setSession} />;
  else if (!session || page === 'signin' || page === null) body = <SignIn onSession={onSession} />;
  else {
    const Page = SIGNED_IN_PAGES[page] ?? Keys;
    body = <Page key={`${page}:${mode}`} />;
  }

  const verified = session?.user.email_verified ?? false;
  return (
    <ConsoleContext.Provider value={state}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <div class="brand">
          <strong>CarbonTrace</strong>
          {session && <span class="org" title="Organisation">{session.organisation.name}</span>}
        </div>
        {session && (
          <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
        )}
        <nav id="nav" aria-label="Console" class={menuOpen ? 'open' : ''}>
          {session && (
            <ul>
              {NAV.map(([p, label]) => (
                <li key={p}><a href={`#/${p}`} aria-current={page === p ? 'page' : undefined}>{label}</a></li>
              ))}
            </ul>
          )}
          <div class="nav-tools">
            {session && (
              <fieldset class="mode">
                <legend>Mode</legend>
                <label><input type="radio" name="mode" value="test" checked={mode === 'test'} onChange={() => chooseMode('test')} /> Sandbox</label>
                <label class={verified ? '' : 'disabled'}>
                  <input type="radio" name="mode" value="live" checked={mode === 'live'} disabled={!liveAllowed(session)}
                    aria-describedby={liveAllowed(session) ? undefined : 'live-why'} onChange={() => chooseMode('live')} /> Live
                </label>
                {!liveAllowed(session) && (
                  <span id="live-why" class="why">{verified ? 'Live mode is not available to this organisation.' : 'Verify your email to use Live.'}</span>
                )}
              </fieldset>
            )}
            <a href="/docs">API docs</a>
            {session && <button type="button" onClick={() => void signOut()}>Sign out</button>}
          </div>
        </nav>
      </header>
      {session && mode === 'live' && <p class="live-banner">Live mode: real data, real quota.</p>}
      <main id="main" ref={mainRef} tabIndex={-1}>{body}</main>
      <div class="status" role="status" aria-live="polite" aria-atomic="true">{status}</div>
    </ConsoleContext.Provider>
  );
}
