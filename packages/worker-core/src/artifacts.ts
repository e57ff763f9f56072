import { DcpError, DcpErrorCode, dataUri, parseKvin } from '@dcp-emu/protocol';

/** Why the worker fetches from an origin (dcp-client's allowOrigins purposes). */
export type FetchPurpose =
  | 'fetchWorkFunctions'
  | 'fetchArguments'
  | 'fetchData'
  | 'workerFetch'
  | 'sendResults'
  | 'fetchModules';

/** What the worker's network policy knows besides its allow-list. */
export interface OriginPolicyOptions {
  /**
   * The stack's own services (scheduler, bank, portal, worker, evaluator) as URLs or `host:port`:
   * a work function's fetch never reaches them, whatever else is allowed. Job artifacts may still
   * come from the scheduler's origin (outside its `/api/` and `/admin/` routes), as in DCP.
   */
  denied?: readonly { name: string; url: string }[];
  /**
   * Dev default of the stack's own worker: loopback origins (localhost, 127.0.0.0/8, [::1]) other
   * than the denied ones are allowed for job data and a work function's fetch.
   */
  allowLoopback?: boolean;
  /**
   * This machine's own interface addresses (Node: os.networkInterfaces()): a service bound to
   * 0.0.0.0 is reachable through them too, so they count as local when matching `denied`.
   */
  localAddresses?: readonly string[];
}

/** Why a URL is refused, for the message the work function (and the client) gets. */
export interface Refusal {
  origin: string;
  /** set when the URL is one of the stack's own services */
  service?: string;
}

const LOOPBACK_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/i;

/** True for a loopback or unspecified address or a loopback name (what reaches this machine). */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.test(h)) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(h) || h === '0.0.0.0' || /^0+$/.test(h)) return true;
  if (h === '::1' || h === '::' || /^::ffff:(127\.|0\.0\.0\.0|7f)/.test(h) || /^(0+:){7}0*1$/.test(h))
    return true;
  return false;
}

function portOf(u: URL): number {
  if (u.port) return Number(u.port);
  return u.protocol === 'https:' ? 443 : 80;
}

function parseHostPort(entry: string): { hostname: string; port: number } | undefined {
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `http://${entry}`);
    return { hostname: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: portOf(u) };
  } catch {
    return undefined;
  }
}

/**
 * The worker's network policy (dcp-worker's `allowOrigins`): `data:` always; job artifacts
 * (`fetchWorkFunctions`, `fetchArguments`, `fetchData`, `fetchModules`) from the scheduler's origin
 * (and its sub-domains, as in 5.x); `-a` origins for every purpose; compute-group origins per
 * purpose. A work function's own `fetch` (`workerFetch`) gets only `-a` / compute-group origins —
 * never the scheduler's, as in dcp-worker. With `allowLoopback` (the stack's dev default) loopback
 * origins are allowed too. The stack's own services are refused for a work function whatever the
 * flags (the scheduler's origin stays usable for artifacts outside its REST routes).
 */
export class OriginPolicy {
  readonly #any = new Set<string>();
  readonly #perPurpose = new Map<FetchPurpose, Set<string>>();
  readonly #denied: { name: string; hostname: string; port: number }[] = [];
  readonly allowLoopback: boolean;
  readonly #localAddresses: Set<string>;

  constructor(
    readonly schedulerOrigin: string | undefined,
    any: readonly string[] = [],
    options: OriginPolicyOptions = {},
  ) {
    for (const o of any) this.#any.add(normalizeOrigin(o));
    this.allowLoopback = options.allowLoopback ?? false;
    this.#localAddresses = new Set((options.localAddresses ?? []).map((a) => a.toLowerCase()));
    for (const d of options.denied ?? []) this.deny(d.name, d.url);
  }

  /** Adds one of the stack's own services (URL or host:port) to the never-allowed list. */
  deny(name: string, url: string): void {
    const hp = parseHostPort(url);
    if (hp) this.#denied.push({ name, ...hp });
  }

  add(origin: string, purpose?: FetchPurpose): void {
    if (!purpose) {
      this.#any.add(normalizeOrigin(origin));
      return;
    }
    let set = this.#perPurpose.get(purpose);
    if (!set) {
      set = new Set();
      this.#perPurpose.set(purpose, set);
    }
    set.add(normalizeOrigin(origin));
  }

  /**
   * The stack service a URL (or an address it resolved to) points at: same port and the same host,
   * or any local host (localhost, 127.x, [::1], 0.0.0.0, …) when the service listens locally.
   */
  deniedService(url: string, resolved: readonly string[] = []): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = portOf(u);
    const hosts = [host, ...resolved.map((r) => r.toLowerCase())];
    const local = (h: string) => isLocalHost(h) || this.#localAddresses.has(h);
    for (const d of this.#denied) {
      if (d.port !== port) continue;
      const serviceLocal = local(d.hostname);
      if (hosts.some((h) => h === d.hostname || (serviceLocal && local(h)))) return d.name;
    }
    return undefined;
  }

  isAllowed(url: string, purpose: FetchPurpose): boolean {
    return this.refusal(url, purpose) === undefined;
  }

  /** undefined when allowed; else what to tell the work function / client. */
  refusal(url: string, purpose: FetchPurpose, resolved: readonly string[] = []): Refusal | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { origin: url };
    }
    if (u.protocol === 'data:') return undefined;
    const origin = u.origin;
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { origin };
    const service = this.deniedService(url, resolved);
    const scheduler = this.schedulerOrigin ? new URL(this.schedulerOrigin) : undefined;
    const isScheduler = scheduler !== undefined && origin === scheduler.origin;
    if (purpose === 'workerFetch') {
      if (service || isScheduler) return { origin, service: service ?? 'scheduler' };
    } else if (service && !(isScheduler && !/^\/(api|admin)(\/|$)/i.test(u.pathname))) {
      return { origin, service };
    }
    if (this.#any.has(origin) || this.#perPurpose.get(purpose)?.has(origin)) return undefined;
    if (this.allowLoopback && isLocalHost(u.hostname) && resolved.every(isLocalHost)) return undefined;
    if (!scheduler || purpose === 'workerFetch') return { origin };
    if (isScheduler) return undefined;
    const sub =
      u.protocol === scheduler.protocol &&
      u.port === scheduler.port &&
      u.hostname.endsWith(`.${scheduler.hostname}`);
    return sub ? undefined : { origin };
  }

  list(): string[] {
    return [...this.#any];
  }
}

/** The message a refused fetch carries to the work function and, through its error, the client. */
export function refusalMessage(r: Refusal, purpose: FetchPurpose): string {
  if (r.service)
    return `Not allowed to fetch from '${r.origin}': it is this dcp-emu stack's ${r.service}, which a work function can never reach`;
  return (
    `Not allowed to fetch from '${r.origin}' for ${purpose}: allow it with \`dcp-emu up --allow-origin ${r.origin}\` ` +
    `(or dcp-emu-worker --allow-origin / -a ${r.origin})`
  );
}

function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/** Addresses a host name resolves to (Node: dns.lookup), so a name cannot smuggle in a local service. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * fetch() under the policy: every hop (redirects are followed here, at most 5, each checked) must be
 * allowed for `purpose`, with the host's resolved addresses checked too when `resolve` is given.
 */
export async function guardedFetch(
  policy: OriginPolicy,
  url: string,
  purpose: FetchPurpose,
  init: RequestInit,
  httpFetch: HttpFetch,
  resolve?: ResolveHost,
): Promise<Response> {
  let current = url;
  let options: RequestInit = { ...init, redirect: 'manual' };
  for (let hop = 0; ; hop++) {
    let resolved: string[] = [];
    const u = new URL(current);
    if (resolve && u.protocol !== 'data:' && !/^[\d.]+$|:/.test(u.hostname)) {
      try {
        resolved = await resolve(u.hostname);
      } catch {
        resolved = [];
      }
    }
    const refused = policy.refusal(current, purpose, resolved);
    if (refused) throw new DcpError(DcpErrorCode.EPERM_ORIGIN, refusalMessage(refused, purpose));
    const res = await httpFetch(current, options);
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || !location) return res;
    if (hop >= 5) throw new DcpError(DcpErrorCode.EFETCH, `fetching ${url} failed: too many redirects`);
    await res.arrayBuffer().catch(() => undefined);
    current = new URL(location, current).href;
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && options.method === 'POST'))
      options = { ...options, method: 'GET', body: undefined };
  }
}

/** A fetched artifact: the decoded value and its size on the wire (bytes, for InDataSize). */
export interface Artifact {
  value: unknown;
  bytes: number;
}

export type HttpFetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * Downloads job artifacts (work function, arguments, data, modules) as dcp-client does (§4.6):
 * `data:` URIs always, http(s) only from allowed origins, decoded by content type (JSON, KVIN,
 * text, else bytes). Work functions and arguments are cached by URL; slice data are not.
 */
export class ArtifactFetcher {
  readonly #cache = new Map<string, Promise<Artifact>>();
  bytesFetched = 0;

  constructor(
    readonly origins: OriginPolicy,
    private readonly httpFetch: HttpFetch = (url, init) => fetch(url, init),
    private readonly maxCacheEntries = 256,
    readonly resolveHost?: ResolveHost,
  ) {}

  fetch(
    url: string,
    purpose: FetchPurpose,
    options: { cache?: boolean; asText?: boolean } = {},
  ): Promise<Artifact> {
    if (!options.cache) return this.#fetch(url, purpose, options.asText === true);
    const key = `${purpose} ${options.asText ? 't' : 'v'} ${url}`;
    let hit = this.#cache.get(key);
    if (!hit) {
      hit = this.#fetch(url, purpose, options.asText === true);
      hit.catch(() => this.#cache.delete(key));
      this.#cache.set(key, hit);
      if (this.#cache.size > this.maxCacheEntries) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
    }
    return hit;
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  async #fetch(url: string, purpose: FetchPurpose, asText: boolean): Promise<Artifact> {
    if (url.startsWith('data:')) {
      const bytes = url.length;
      this.bytesFetched += bytes;
      const value = asText ? decodeURI(url.slice(url.indexOf(',') + 1)) : dataUri.decode(url);
      return { value, bytes };
    }
    let res: Response;
    try {
      res = await guardedFetch(this.origins, url, purpose, {}, this.httpFetch, this.resolveHost);
    } catch (e) {
      if (e instanceof DcpError) throw e;
      throw new DcpError(DcpErrorCode.EFETCH, `fetching ${url} failed: ${(e as Error).message}`);
    }
    const body = new Uint8Array(await res.arrayBuffer());
    this.bytesFetched += body.length;
    if (!res.ok) throw new DcpError(DcpErrorCode.EFETCH, `fetching ${url} failed: HTTP ${res.status}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const text = () => new TextDecoder().decode(body);
    let value: unknown;
    try {
      if (asText || type === '' || type.startsWith('text/') || type === 'application/javascript')
        value = text();
      else if (type === 'application/json') value = JSON.parse(text());
      else if (type === 'application/x-kvin') value = parseKvin(text());
      else value = body;
    } catch (e) {
      throw new DcpError(DcpErrorCode.EFETCH, `cannot decode ${url} (${type}): ${(e as Error).message}`);
    }
    return { value, bytes: body.length };
  }
}

/**
 * The stack's own services a worker knows of, for `OriginPolicyOptions.denied`: the scheduler, the
 * DCP services and the bank/portal its config names, plus `extra` (the worker's own ports: health,
 * evaluator; the stack's bank and portal).
 */
export function stackServices(input: {
  schedulerUrl: string | URL;
  services?: Record<string, URL | undefined>;
  config?: Record<string, unknown>;
  extra?: readonly { name: string; url: string | undefined }[];
}): { name: string; url: string }[] {
  const out: { name: string; url: string }[] = [{ name: 'scheduler', url: String(input.schedulerUrl) }];
  for (const [name, url] of Object.entries(input.services ?? {})) if (url) out.push({ name, url: url.href });
  for (const name of ['bank', 'portal']) {
    const loc = (input.config?.[name] as { location?: unknown } | undefined)?.location;
    if (loc instanceof URL || typeof loc === 'string') out.push({ name, url: String(loc) });
  }
  for (const e of input.extra ?? []) if (e.url) out.push({ name: e.name, url: e.url });
  return out;
}
