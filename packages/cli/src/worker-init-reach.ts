/**
 * `worker init`'s reachability report: every location the scheduler's dcp-config serves, checked from
 * this machine (HTTP answers, or a TCP connection for other schemes).
 */
import { connect } from 'node:net';
import { parseKvin } from '@dcp-emu/protocol/node';

export interface Reach {
  /** where in dcp-config, e.g. `scheduler.services.taskDistributor.location` */
  name: string;
  url: string;
  ok: boolean;
  detail: string;
}

/** Every `location` (URL or URL string) in a dcp-config tree, by its dotted path. */
export function locationsOf(config: unknown): { name: string; url: URL }[] {
  const found: { name: string; url: URL }[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string[]) => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (/location$/i.test(key) && key !== 'configLocation') {
        const href =
          value instanceof URL
            ? value.href
            : typeof value === 'string' || value instanceof String
              ? String(value)
              : typeof (value as { href?: unknown } | null)?.href === 'string'
                ? (value as { href: string }).href
                : undefined;
        if (href) {
          try {
            found.push({ name: [...path, key].join('.'), url: new URL(href) });
          } catch {
            // not a URL: nothing to reach
          }
        }
        continue;
      }
      walk(value, [...path, key]);
    }
  };
  walk(config, []);
  return found;
}

function tcpReach(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((res) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      res(`no connection in ${timeoutMs} ms`);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      res(undefined);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      res(e.message);
    });
  });
}

/** One location: http(s) must answer (any HTTP status is an answer); other schemes must accept TCP. */
export async function reach(name: string, url: URL, timeoutMs: number): Promise<Reach> {
  const t0 = Date.now();
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return { name, url: url.href, ok: true, detail: `HTTP ${res.status}, ${Date.now() - t0} ms` };
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return {
        name,
        url: url.href,
        ok: false,
        detail: cause?.code ?? cause?.message ?? (e as Error).message,
      };
    }
  }
  const port = Number(url.port);
  if (!url.hostname || !port) return { name, url: url.href, ok: true, detail: 'not a network location' };
  const error = await tcpReach(url.hostname, port, timeoutMs);
  return error
    ? { name, url: url.href, ok: false, detail: error }
    : { name, url: url.href, ok: true, detail: `TCP, ${Date.now() - t0} ms` };
}

/** The scheduler's dcp-config (KVIN, as dcp-client fetches it) and a check of every location in it. */
export async function checkScheduler(
  scheduler: URL,
  timeoutMs: number,
): Promise<{ config: unknown; reached: Reach[] }> {
  const configUrl = new URL('/etc/dcp-config.kvin?ver=2.1.0', scheduler);
  const res = await fetch(configUrl, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${configUrl.href}: HTTP ${res.status}`);
  const config = parseKvin(await res.text());
  const byUrl = new Map<string, { name: string; url: URL }>();
  for (const l of [{ name: 'scheduler (--scheduler)', url: scheduler }, ...locationsOf(config)])
    if (!byUrl.has(l.url.href)) byUrl.set(l.url.href, l);
  const reached = await Promise.all([...byUrl.values()].map((l) => reach(l.name, l.url, timeoutMs)));
  return { config, reached };
}
