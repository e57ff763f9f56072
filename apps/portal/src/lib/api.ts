/** Browser-side calls to the portal's own REST API, with errors as values. */

export interface ApiError {
  code: string;
  message: string;
  field?: string;
}

export type ApiResult<T> = { ok: true; data: T } | { ok: false; status: number; error: ApiError };

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: {
        code: 'ENETWORK',
        message: 'the portal did not answer; check that it is running, then try again',
      },
    };
  }
  const payload = (await response.json().catch(() => null)) as { error?: ApiError } | null;
  if (response.ok) return { ok: true, data: payload as T };
  return {
    ok: false,
    status: response.status,
    error: payload?.error ?? {
      code: 'EINTERNAL',
      message: `the portal answered ${response.status}; try again`,
    },
  };
}

/** A same-site path to go to after signing in; anything else falls back to `fallback`. */
export function safeNextPath(next: string | null | undefined, fallback = '/keystores'): string {
  if (next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')) return next;
  return fallback;
}

/** Server messages are lower-case clauses; shown alone they read better as sentences. */
export function sentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const capital = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
