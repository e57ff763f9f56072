import { DcpError, DcpErrorCode, defaultServicePath, parseKvin } from '@dcp-emu/protocol';
import type { ServiceLocations } from './options';

export interface DiscoveredScheduler {
  services: ServiceLocations;
  /** the remote config as served, for display */
  config: Record<string, unknown> | undefined;
  /** the idle poll the scheduler asks for (`supervisor.tuning.watchdogInterval`, seconds → ms), if served */
  watchdogIntervalMs?: number;
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
 * `packageManager.location`, and the idle poll `supervisor.tuning.watchdogInterval`. Services the config does not name get the default paths
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
        unref(setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)),
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
  const tuning = (config.supervisor as { tuning?: { watchdogInterval?: unknown } } | undefined)?.tuning;
  const seconds = Number(tuning?.watchdogInterval);
  return {
    config,
    ...(Number.isFinite(seconds) && seconds > 0 ? { watchdogIntervalMs: Math.round(seconds * 1000) } : {}),
    services: {
      taskDistributor: locationOf(services.taskDistributor) ?? fallback('taskDistributor'),
      resultSubmitter: locationOf(services.resultSubmitter) ?? fallback('resultSubmitter'),
      eventRouter: locationOf(services.eventRouter) ?? fallback('eventRouter'),
      packageManager: locationOf(config.packageManager) ?? fallback('packageManager'),
    },
  };
}

function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}
