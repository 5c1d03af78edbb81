//! Hash routing (`/console/#/keys`): the assets server only knows /console/ itself, so every
//! page lives in the fragment, which never reaches a server. `#/join?token=…` and
//! `#/verify?token=…` carry one-time tokens in the fragment; pages that read one scrub it.
import { useEffect, useState } from 'preact/hooks';

export const PAGES = ['keys', 'usage', 'certificates', 'reports', 'inventory', 'members', 'account', 'signin', 'signup', 'join', 'verify'] as const;
export type PageName = (typeof PAGES)[number];
/** Pages shown without a session. */
export const PUBLIC_PAGES: ReadonlySet<PageName> = new Set(['signin', 'signup', 'join', 'verify']);

export interface Route { page: PageName | null; params: URLSearchParams }

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const name = (q < 0 ? h : h.slice(0, q)).replace(/\/+$/, '');
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const page = (PAGES as readonly string[]).includes(name) ? (name as PageName) : null;
  return { page, params };
}

export function navigate(page: PageName): void {
  if (location.hash !== `#/${page}`) location.hash = `#/${page}`;
}

/** Drop the query from the fragment (after a page took its token) without a history entry. */
export function scrubHash(page: PageName): void {
  history.replaceState(history.state, '', `${location.pathname}${location.search}#/${page}`);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
