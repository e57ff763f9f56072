import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DcpError, DcpErrorCode, defaultServicePath, parseKvin } from '@dcp-emu/protocol/node';
import type { ServiceLocations } from './supervisor';

export interface DiscoveredScheduler {
  services: ServiceLocations;
  /** the remote config as served, for display */
  config: Record<string, unknown> | undefined;
}

function locationOf(node: unknown): URL | undefined {
  const loc = (node as { location?: unknown } | undefined)?.location;
  if (loc instanceof URL) return loc;
  if (typeof loc === 'string' || loc instanceof String) {
    try {
      return new URL(String(loc));
    } catch {
      return undefined;
    }
  }
  if (loc && typeof (loc as { href?: unknown }).href === 'string')
    return new URL((loc as { href: string }).href);
  return undefined;
}

/**
 * Service locations of a scheduler, as dcp-client finds them: `GET <scheduler>/etc/dcp-config.kvin?ver=2.1.0`
 * (KVIN v9) → `scheduler.services.{taskDistributor,resultSubmitter,eventRouter}.location` and
 * `packageManager.location`. Services the config does not name get the default paths
 * (`/task-distributor/`, …) on the scheduler's origin.
 */
export async function discoverScheduler(
  schedulerUrl: string | URL,
  httpFetch: (url: string) => Promise<Response> = (u) => fetch(u),
  timeoutMs = 10_000,
): Promise<DiscoveredScheduler> {
  const base = new URL(schedulerUrl);
  const url = new URL('/etc/dcp-config.kvin?ver=2.1.0', base);
  let res: Response;
  try {
    res = await Promise.race([
      httpFetch(url.href),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  } catch (e) {
    throw new DcpError(
      DcpErrorCode.EFETCH,
      `cannot reach the scheduler at ${url.href}: ${(e as Error).message}`,
    );
  }
  if (!res.ok) throw new DcpError(DcpErrorCode.EFETCH, `${url.href}: HTTP ${res.status}`);
  const config = parseKvin(await res.text()) as Record<string, unknown>;
  const services = ((config.scheduler as Record<string, unknown> | undefined)?.services ?? {}) as Record<
    string,
    unknown
  >;
  const fallback = (name: string) => new URL(defaultServicePath(name), base.origin);
  return {
    config,
    services: {
      taskDistributor: locationOf(services.taskDistributor) ?? fallback('taskDistributor'),
      resultSubmitter: locationOf(services.resultSubmitter) ?? fallback('resultSubmitter'),
      eventRouter: locationOf(services.eventRouter) ?? fallback('eventRouter'),
      packageManager: locationOf(config.packageManager) ?? fallback('packageManager'),
    },
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The worker's 22-character id, created once and kept in `file` (dcp-client keeps it in localStorage). */
export function loadOrCreateWorkerId(file: string): string {
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9]{22}$/.test(id)) return id;
  } catch {
    // not created yet
  }
  let id = '';
  for (let i = 0; i < 22; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}
