import { readFileSync } from 'node:fs';
import { type ClockStatus, clockStatusSchema, parseDuration } from '@dcp-emu/protocol/clock';
import { adminTokenFile } from './stack-file';

/** Services with a virtual clock (`/admin/time`), in the order they are driven. */
export const TIME_SERVICES = ['scheduler', 'bank'] as const;

/** A running stack as the time client needs it: service base URLs and the admin token. */
export type TimeStack =
  | { urls: Record<string, string>; adminToken: string }
  /** `up`'s stack.json record (`runningStack(dataDir)`): the token is read from `<dataDir>/admin.token` */
  | { urls: Record<string, string>; dataDir: string };

/** The stack's time: each clocked service's status; `now` and `frozen` are the scheduler's (else the first's). */
export interface StackTime {
  now: number;
  iso: string;
  frozen: boolean;
  services: Record<string, ClockStatus & { fired?: number }>;
}

/** Virtual time of a whole stack: every clocked service is driven so that they agree. */
export interface TimeClient {
  status(): Promise<StackTime>;
  /** stop time in every service, at one instant */
  freeze(): Promise<StackTime>;
  /** move time forward by `by` (ms, or `10m`, `30s`, `1h`…): the timers due in that span fire, in order */
  advance(by: number | string): Promise<StackTime>;
  /** let time run again (the offset to real time stays) */
  resume(): Promise<StackTime>;
  /** the stack's time (the scheduler's clock), ms since the epoch */
  now(): Promise<number>;
}

export class TimeControlError extends Error {}

/** An advance fires the timers due in its span one by one: give it room on a busy machine. */
const ADMIN_TIMEOUT_MS = 300_000;

/**
 * The time controls of a running stack, for `dcp-emu time` and the programmatic API:
 * `await timeControl(stack).advance('10m')`.
 */
export function timeControl(stack: TimeStack): TimeClient {
  const services = TIME_SERVICES.filter((s) => stack.urls[s]);
  let token: string | undefined = 'adminToken' in stack ? stack.adminToken : undefined;
  const adminToken = () => {
    token ??= readFileSync(adminTokenFile((stack as { dataDir: string }).dataDir), 'utf8').trim();
    return token;
  };

  async function call(service: string, path: string, body?: object): Promise<ClockStatus> {
    const url = new URL(`admin/time${path}`, stack.urls[service]);
    let res: Response;
    try {
      res = await fetch(url, {
        method: body ? 'POST' : 'GET',
        headers: {
          authorization: `Bearer ${adminToken()}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
      });
    } catch (e) {
      throw new TimeControlError(`${service} (${url.origin}): ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const message =
        (json as { error?: { message?: string } } | undefined)?.error?.message ??
        (res.status === 404
          ? 'no /admin/time route (is the service started with an admin token?)'
          : text.slice(0, 200));
      throw new TimeControlError(`${service}: ${message} (HTTP ${res.status})`);
    }
    const status = clockStatusSchema.safeParse(json);
    if (!status.success) throw new TimeControlError(`${service}: unexpected answer ${text.slice(0, 200)}`);
    return status.data;
  }

  async function each(path: string, body?: (service: string) => object): Promise<StackTime> {
    if (!services.length) throw new TimeControlError('the stack has no scheduler or bank');
    const answers: Record<string, ClockStatus> = {};
    for (const s of services) answers[s] = await call(s, path, body?.(s));
    return summary(answers);
  }

  function summary(answers: Record<string, ClockStatus>): StackTime {
    const first = answers[services[0] as string] as ClockStatus;
    return { now: first.now, iso: first.iso, frozen: first.frozen, services: answers };
  }

  const client: TimeClient = {
    status: () => each(''),
    async freeze() {
      // each freezes where it stands, then all are set to the latest of them (time never goes back)
      const first = await each('/freeze', () => ({}));
      const at = Math.max(...Object.values(first.services).map((s) => s.now));
      return each('/freeze', () => ({ at }));
    },
    advance(by) {
      let ms: number;
      try {
        ms = parseDuration(by);
      } catch (e) {
        return Promise.reject(new TimeControlError((e as Error).message));
      }
      return each('/advance', () => ({ by: ms }));
    },
    resume: () => each('/resume', () => ({})),
    now: async () => (await client.status()).now,
  };
  return client;
}
