//! What every page may read of the signed-in state: the session, the chosen mode, and the
//! status announcer (the shell's aria-live region). Provided by app.tsx.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Mode, Session } from './api/types';

export interface ConsoleState {
  session: Session | null;
  mode: Mode;
  /** Replace the session (after login, signup, password change…); null signs out locally. */
  setSession(s: Session | null): void;
  /** Re-read /auth/me (after verifying the email, for instance). */
  refresh(): Promise<void>;
  /** Say something in the shell's polite live region. */
  announce(message: string): void;
}

export const ConsoleContext = createContext<ConsoleState | null>(null);

export function useConsole(): ConsoleState {
  const c = useContext(ConsoleContext);
  if (!c) throw new Error('useConsole outside the console shell');
  return c;
}

/** The session of a page that is only rendered signed in. */
export function useSession(): Session {
  const { session } = useConsole();
  if (!session) throw new Error('this page needs a session');
  return session;
}
