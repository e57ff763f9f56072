import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { ServiceSpec } from './stack';
import { adminTokenFile, exportLines } from './stack-file';

/** What `dcp-emu serve` adds to `up`: the production profile. */
export interface ServeProfile {
  adminToken: string;
  /** the token was generated now: the banner prints it, once */
  adminTokenGenerated: boolean;
  /** public base URL (trailing slash) of each service as remote machines reach it */
  publicUrls: { scheduler: string; bank: string; portal?: string };
  /** environment for every service (faucet off, public URLs) */
  env: Record<string, string>;
}

export interface ServeArgs {
  publicUrl: string | undefined;
  publicBankUrl: string | undefined;
  publicPortalUrl: string | undefined;
  adminToken: string | undefined;
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/i;
export const isLoopbackHost = (host: string) => LOOPBACK_HOST.test(host);

const slash = (u: string) => {
  const url = new URL(u);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
};

/** `url` with another port (plain http on a LAN: every service on the same host, own port). */
function onPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.href;
}

export class ServeError extends Error {}

/**
 * The public URLs and token of a `serve`: `--public-url` is where remote machines reach the
 * scheduler (behind a proxy: https://dcp.example.org/); the bank and portal default to the same
 * host on their own ports over plain http, and need their own `--public-*-url` behind a proxy.
 */
export function serveProfile(
  a: ServeArgs,
  o: {
    host: string;
    dataDir: string;
    ports: { scheduler: number; bank: number; portal: number };
    portal: boolean;
  },
): ServeProfile {
  let scheduler = a.publicUrl;
  if (!scheduler) {
    if (o.host === '0.0.0.0' || o.host === '::' || isLoopbackHost(o.host))
      throw new ServeError(
        `serve needs --public-url (the scheduler's URL as other machines reach it, e.g. http://192.0.2.10:${o.ports.scheduler}/ or https://dcp.example.org/)`,
      );
    scheduler = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.ports.scheduler}/`;
  }
  scheduler = slash(scheduler);
  const isHttp = new URL(scheduler).protocol === 'http:';
  const derived = (port: number, flag: string) => {
    if (!isHttp)
      throw new ServeError(
        `${flag} is needed with an https --public-url (the proxy's URL for that service, e.g. https://bank.example.org/)`,
      );
    return onPort(scheduler, port);
  };
  const bank = slash(a.publicBankUrl ?? derived(o.ports.bank, '--public-bank-url'));
  const portal = o.portal
    ? slash(a.publicPortalUrl ?? derived(o.ports.portal, '--public-portal-url'))
    : undefined;
  for (const [what, u] of [
    ['--public-url', scheduler],
    ['--public-bank-url', bank],
  ] as const)
    if (isLoopbackHost(new URL(u).hostname.replace(/^\[|\]$/g, '')))
      throw new ServeError(`${what} ${u} is a loopback address: other machines cannot reach it`);

  let adminToken = a.adminToken;
  let generated = false;
  if (!adminToken) {
    const file = adminTokenFile(o.dataDir);
    // the token of an earlier `serve` of this data dir stays (scripts and proxies keep working)
    if (existsSync(file)) adminToken = readFileSync(file, 'utf8').trim();
    if (!adminToken) {
      adminToken = randomBytes(32).toString('hex');
      generated = true;
    }
  }
  if (adminToken.length < 16) throw new ServeError('the admin token must have at least 16 characters');
  return {
    adminToken,
    adminTokenGenerated: generated,
    publicUrls: { scheduler, bank, ...(portal ? { portal } : {}) },
    env: {
      DCP_EMU_BANK_FAUCET: 'off',
      DCP_EMU_PUBLIC_URL: scheduler,
      DCP_EMU_PUBLIC_BANK_URL: bank,
    },
  };
}

/** What `serve` prints on stdout once every service is ready. */
export function serveBanner(p: ServeProfile, list: ServiceSpec[]): string {
  const out: string[] = [];
  const width = Math.max(...list.map((s) => s.name.length)) + 2;
  const shown: Record<string, string | undefined> = p.publicUrls;
  for (const s of list) {
    const pub = shown[s.name];
    out.push(
      `${s.name.padEnd(width)}${pub ?? s.url}${pub && pub !== s.url ? `  (listening on ${s.url})` : ''}`,
    );
  }
  out.push('', 'faucet: off; no dev accounts (fund accounts from your own keys)');
  if (p.adminTokenGenerated)
    out.push('', `admin token (printed once; kept in the data dir's admin.token): ${p.adminToken}`);
  out.push(
    '',
    'for dcp-client / dcp-worker / dcp-util programs on other machines (with their own keystores):',
    exportLines({ DCP_SCHEDULER_LOCATION: p.publicUrls.scheduler }).trimEnd(),
  );
  return `${out.join('\n')}\n`;
}

/** A plain `up` that listens beyond loopback: the faucet and the public dev keys are open money. */
export function warnExposedDev(
  host: string,
  write: (t: string) => unknown = (t) => process.stderr.write(t),
): boolean {
  if (isLoopbackHost(host)) return false;
  write(
    [
      '',
      `!!! dcp-emu up --host ${host}: this DEVELOPMENT stack is reachable from other machines.`,
      '!!! The bank faucet mints DCC (admin token required beyond loopback) and the ten dev accounts',
      '!!! funded at start use the PUBLIC "test test … junk" mnemonic: anyone can spend them.',
      '!!! For a private compute group use `dcp-emu serve` (faucet off, no dev accounts, --public-url).',
      '',
      '',
    ].join('\n'),
  );
  return true;
}
