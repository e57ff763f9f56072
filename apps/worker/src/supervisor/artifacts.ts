import { DcpError, DcpErrorCode, dataUri, parseKvin } from '@dcp-emu/protocol';

/** Why the worker fetches from an origin (dcp-client's allowOrigins purposes). */
export type FetchPurpose =
  | 'fetchWorkFunctions'
  | 'fetchArguments'
  | 'fetchData'
  | 'workerFetch'
  | 'sendResults'
  | 'fetchModules';

/**
 * The worker's origin allow-list: the scheduler's origin (and its sub-domains, as in 5.x) is always
 * allowed; `-a` origins are allowed for every purpose; `perPurpose` adds origins per purpose.
 */
export class OriginPolicy {
  readonly #any = new Set<string>();
  readonly #perPurpose = new Map<FetchPurpose, Set<string>>();

  constructor(
    readonly schedulerOrigin: string | undefined,
    any: readonly string[] = [],
  ) {
    for (const o of any) this.#any.add(normalizeOrigin(o));
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

  isAllowed(url: string, purpose: FetchPurpose): boolean {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (u.protocol === 'data:') return true;
    if (this.#any.has(u.origin) || this.#perPurpose.get(purpose)?.has(u.origin)) return true;
    if (!this.schedulerOrigin) return false;
    const s = new URL(this.schedulerOrigin);
    if (u.origin === s.origin) return true;
    return u.protocol === s.protocol && u.port === s.port && u.hostname.endsWith(`.${s.hostname}`);
  }

  list(): string[] {
    return [...this.#any];
  }
}

function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
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
    if (!this.origins.isAllowed(url, purpose))
      throw new DcpError(
        DcpErrorCode.EPERM_ORIGIN,
        `Not allowed to fetch from the origin '${safeOrigin(url)}' for ${purpose}`,
      );
    let res: Response;
    try {
      res = await this.httpFetch(url);
    } catch (e) {
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

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
