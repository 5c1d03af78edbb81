//! Small accessible building blocks shared by the pages: labelled fields with their error, a
//! form-level error (role=alert), the once-shown secret with its Copy button, the confirmation
//! <dialog>, a meter with its figures in text, the page heading that takes focus, a loader
//! hook, and date / number formatting.
import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/client';

let firstPage = true;

/** A page's h1. After a move from another page it takes the focus, so keyboard and screen-reader
 * users land on the new page; the first page of a visit leaves the focus at the document's start. */
export function PageHeading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (firstPage) firstPage = false;
    else ref.current?.focus({ preventScroll: true });
  }, []);
  return <h1 ref={ref} tabIndex={-1}>{children}</h1>;
}

interface FieldProps {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password' | 'number' | 'search';
  value: string;
  onInput: (v: string) => void;
  error?: string | undefined;
  hint?: string;
  required?: boolean;
  autoComplete?: string;
  minLength?: number;
  min?: number;
  max?: number;
  readOnly?: boolean;
}

/** A labelled input; its hint and error are tied to it with aria-describedby. */
export function Field(p: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const described = [p.hint ? hintId : '', p.error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        // Preact's input types are narrowed per `type`; this component takes a few of them.
        {...({ type: p.type ?? 'text' } as InputHTMLAttributes<HTMLInputElement>)}
        id={id} name={p.name} value={p.value} required={p.required}
        autoComplete={p.autoComplete} minLength={p.minLength} min={p.min} max={p.max} readOnly={p.readOnly}
        aria-invalid={p.error ? 'true' : undefined} aria-describedby={described}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {p.hint && <p class="hint" id={hintId}>{p.hint}</p>}
      {p.error && <p class="field-error" id={errId}>{p.error}</p>}
    </div>
  );
}

interface SelectProps {
  label: string;
  name: string;
  value: string;
  options: ReadonlyArray<readonly [value: string, label: string]>;
  onChange: (v: string) => void;
  error?: string | undefined;
}

export function Select(p: SelectProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} name={p.name} value={p.value} aria-invalid={p.error ? 'true' : undefined}
        onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}>
        {p.options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
      {p.error && <p class="field-error">{p.error}</p>}
    </div>
  );
}

/** The error of a whole form or section, announced at once. */
export function ErrorText({ error }: { error: string | null | undefined }) {
  return <div class="error" role="alert">{error ?? ''}</div>;
}

/** A secret shown once (a new key, an invite URL): read-only, selectable, with a Copy button. */
export function SecretBox({ label, value, warning }: { label: string; value: string; warning?: string }) {
  const id = useId();
  const [copied, setCopied] = useState<string>('');
  const input = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied to the clipboard.');
    } catch {
      input.current?.select();
      setCopied('Copying was refused by the browser: the text is selected, press Ctrl+C (⌘C).');
    }
  };
  return (
    <div class="secret">
      <label for={id}>{label}</label>
      <div class="secret-row">
        <input id={id} ref={input} class="mono" type="text" readOnly value={value} spellcheck={false}
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button type="button" onClick={copy}>Copy</button>
      </div>
      <p class="warning">{warning ?? 'This is shown only once: copy it now and keep it somewhere safe. It cannot be shown again.'}</p>
      <p class="hint" aria-live="polite">{copied}</p>
    </div>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
  children?: ComponentChildren;
}

/** A modal confirmation (<dialog> with showModal: focus is trapped, Esc cancels). */
export function ConfirmDialog(p: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (p.open && !d.open) d.showModal();
    if (!p.open && d.open) d.close();
  }, [p.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); p.onCancel(); }}>
      <form method="dialog" onSubmit={(e) => { e.preventDefault(); p.onConfirm(); }}>
        <h2 id={titleId}>{p.title}</h2>
        {p.children}
        <ErrorText error={p.error} />
        <div class="actions">
          <button type="button" onClick={p.onCancel} disabled={p.busy}>Cancel</button>
          <button type="submit" class={p.danger ? 'danger' : 'primary'} disabled={p.busy}>{p.confirmLabel}</button>
        </div>
      </form>
    </dialog>
  );
}

/** A figure against its limit: a <meter> plus the same in words. */
export function Meter({ label, used, limit }: { label: string; used: number; limit: number | null | undefined }) {
  const id = useId();
  const text = limit == null ? `${fmtInt(used)} (no limit)` : `${fmtInt(used)} of ${fmtInt(limit)}`;
  return (
    <div class="meter">
      <span id={id} class="meter-label">{label}</span>
      {limit != null && <meter aria-labelledby={id} min={0} max={limit} value={Math.min(used, limit)} high={limit * 0.8} optimum={0} />}
      <span class="meter-text">{text}</span>
    </div>
  );
}

/** Load something when `deps` change: { data, error, loading, reload }. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const seq = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const data = await run();
      if (n === seq.current) setState({ data, error: null, loading: false });
    } catch (e) {
      if (n === seq.current) setState((s) => ({ ...s, error: messageOf(e), loading: false }));
    }
  }, [run]);
  useEffect(() => { void reload(); }, [reload]);
  return { ...state, reload };
}

/** A newest-first listing read a page at a time (`GET /certificates`, `GET /reports`): its
 * rows (which the page may also edit), the next page's cursor, and `load(cursor)`: `null`
 * reads the first page again, a cursor appends the next one. Reloads when `deps` change. */
export function usePages<T>(page: (cursor: string | null) => Promise<{ data: T[]; next_cursor: string | null }>, deps: unknown[]) {
  const [rows, setRows] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const load = async (after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const p = await page(after);
      setRows((r) => (after ? [...r, ...p.data] : p.data));
      setCursor(p.next_cursor);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setLoading(false);
    }
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => { void load(null); }, deps);
  return { rows, setRows, cursor, loading, error, setError, load };
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const intFmt = new Intl.NumberFormat();
const kgFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function fmtDate(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : dateFmt.format(d);
}
export function fmtInt(n: number): string { return intFmt.format(n); }
export function fmtKg(n: number | null | undefined): string { return n == null ? '—' : kgFmt.format(n); }
