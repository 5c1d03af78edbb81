//! The console's one way to the API (/api/v1, same origin): an openapi-fetch client typed by
//! the generated OpenAPI types (target/console/schema.d.ts), with a middleware that sends the
//! chosen mode (`X-CarbonTrace-Mode`) on every call and the CSRF token (`X-CSRF-Token`, held in
//! memory only, never in storage or a URL) on every unsafe one. The session itself is the
//! HttpOnly `__Host-ct_session` cookie, which this code never sees. Also: problem+json errors
//! as `ApiError`, and downloads (fetched with the same headers, saved through an object URL).
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '../../../target/console/schema';
import type { Mode, Problem } from './types';

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken: string | null = null;
let mode: Mode = 'test';
let onUnauthorised: (() => void) | null = null;

/** Keep the session's CSRF token (from /auth/me, login, signup…) in memory; null on sign out. */
export function setCsrf(token: string | null): void { csrfToken = token; }
/** The mode every call is made in (default `test`, the sandbox). */
export function setMode(m: Mode): void { mode = m; }
export function currentMode(): Mode { return mode; }
/** Called when an API call other than sign-in answers 401 (the session ended). */
export function setUnauthorisedHandler(fn: (() => void) | null): void { onUnauthorised = fn; }

/** The headers every console call carries. */
function withConsoleHeaders(headers: Headers, method: string): Headers {
  headers.set('X-CarbonTrace-Mode', mode);
  if (UNSAFE.has(method.toUpperCase()) && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  return headers;
}

const consoleMiddleware: Middleware = {
  onRequest({ request }) {
    withConsoleHeaders(request.headers, request.method);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith(`${BASE}/auth/`)) onUnauthorised?.();
    return response;
  },
};

// JSON media only: a PDF or CSV is asked for with `parseAs: 'blob'`.
export const api = createClient<paths, `${string}/json`>({ baseUrl: BASE, credentials: 'same-origin' });
api.use(consoleMiddleware);

/** A refused call: the HTTP status and, when the body was problem+json, the problem. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Partial<Problem> | null, readonly retryAfter: number | null) {
    super(problem?.detail ?? problem?.title ?? `The server answered ${status}.`);
    this.name = 'ApiError';
  }
  get code(): string | undefined { return this.problem?.code; }
  /** Field errors by field name (`errors: [{field, message}]`, or a problem's own `field`). */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {};
    const own = (this.problem as { field?: unknown } | null)?.field;
    if (typeof own === 'string' && own) out[own] = this.message;
    for (const e of this.problem?.errors ?? []) {
      const f = (e as { field?: string }).field;
      const m = (e as { message?: string }).message;
      if (f && m && !(f in out)) out[f] = m;
    }
    return out;
  }
}

function retryAfterOf(res: Response): number | null {
  const v = res.headers.get('Retry-After');
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** The data of an openapi-fetch result, or throw its problem as an ApiError. */
export function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.response.ok && r.error === undefined) return r.data as T;
  const p = r.error && typeof r.error === 'object' ? (r.error as Partial<Problem>) : null;
  throw new ApiError(r.response.status, p, retryAfterOf(r.response));
}

/** What to say about any thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 429) {
      const wait = e.retryAfter !== null ? ` Try again in ${e.retryAfter} s.` : ' Try again shortly.';
      return `${e.problem?.detail ?? 'Too many requests.'}${wait}`;
    }
    return e.message;
  }
  if (e instanceof Error) return e.name === 'TypeError' ? 'The network request failed. Check your connection.' : e.message;
  return String(e);
}

/** GET an API URL the API gave (a certificate's `pdf_url`) as a Blob, with the console's
 * headers and the session cookie. Only its path is used: the call goes to this origin (the API
 * may name its public origin, which the page's CSP would not let it reach). */
export async function fetchBlob(apiUrl: string): Promise<Blob> {
  const given = new URL(apiUrl, location.origin);
  if (!given.pathname.startsWith(`${BASE}/`)) throw new Error(`Not an API address: ${apiUrl}`);
  const res = await fetch(`${given.pathname}${given.search}`, { credentials: 'same-origin', headers: withConsoleHeaders(new Headers(), 'GET') });
  if (!res.ok) {
    let problem: Partial<Problem> | null = null;
    try { problem = (await res.json()) as Partial<Problem>; } catch { /* not JSON */ }
    if (res.status === 401) onUnauthorised?.();
    throw new ApiError(res.status, problem, retryAfterOf(res));
  }
  return res.blob();
}

/** Save a Blob as a file through a temporary object URL and an <a download>. */
export function saveBlob(blob: Blob, filename: string): void {
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 30_000);
}

/** Sleep, for polling. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
