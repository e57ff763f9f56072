/**
 * The scheduler's fault injection REST API (`/admin/faults`, admin token; `GET /api/faults` read-only),
 * for `dcp-emu fault` and the programmatic API (`startEmulator().faults`).
 */

/** A fault as the scheduler takes it (see apps/scheduler/src/faults/fault-plan.ts). */
export type FaultSpec = {
  /** only this job */
  job?: string;
  /** only this worker: identity address, payment address or worker id */
  worker?: string;
  /** how many times it acts (default 1); 'always' until cleared */
  times?: number | 'always';
  /** chance (0…1) that a matching event is hit, from the fault's seeded generator (default 1) */
  probability?: number;
  /** seed of that generator (default 1) */
  seed?: number;
} & (
  | { kind: 'crashWorker'; afterSlices?: number; how?: 'kill' | 'drop' }
  | { kind: 'dropResult'; keepLease?: boolean }
  | { kind: 'delayResult'; ms: number }
  | { kind: 'corruptResult'; value?: unknown }
  | { kind: 'delayTask'; ms: number }
  | { kind: 'refuseTask'; answer?: 'noWork' | 'error' }
  | { kind: 'bankDown'; durationMs?: number }
  | { kind: 'disconnectClient'; job: string; afterResults?: number }
);

export type FaultKind = FaultSpec['kind'];
export const FAULT_KINDS: readonly FaultKind[] = [
  'crashWorker',
  'dropResult',
  'delayResult',
  'corruptResult',
  'delayTask',
  'refuseTask',
  'bankDown',
  'disconnectClient',
];

/** A fault as the scheduler lists it. */
export type Fault = FaultSpec & {
  id: string;
  fired: number;
  spent: boolean;
  createdAt: string;
  until?: string;
};

export interface FaultsTarget {
  /** the scheduler's base URL */
  schedulerUrl: string;
  adminToken: string;
}

export class FaultsError extends Error {}

async function call<T>(t: FaultsTarget, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, t.schedulerUrl), {
    method,
    headers: {
      authorization: `Bearer ${t.adminToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message =
      (json as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 300);
    throw new FaultsError(`scheduler: ${message} (HTTP ${res.status})`);
  }
  return json as T;
}

export const addFault = async (t: FaultsTarget, spec: FaultSpec): Promise<Fault> =>
  (await call<{ fault: Fault }>(t, 'POST', 'admin/faults', spec)).fault;
export const listFaults = async (t: FaultsTarget): Promise<Fault[]> =>
  (await call<{ faults: Fault[] }>(t, 'GET', 'admin/faults')).faults;
/** Clears one fault (by id) or all; returns how many were removed. */
export const clearFaults = async (t: FaultsTarget, id?: string): Promise<number> =>
  (
    await call<{ cleared: number }>(
      t,
      'DELETE',
      id ? `admin/faults/${encodeURIComponent(id)}` : 'admin/faults',
    )
  ).cleared;

/** One line per fault, for `dcp-emu fault list` and `dcp-emu status`. */
export function describeFault(f: Fault): string {
  const { id, kind, fired, spent, createdAt: _c, until, ...rest } = f;
  const params = Object.entries(rest)
    .filter(([k, v]) => v !== undefined && !(k === 'probability' && v === 1) && !(k === 'seed' && v === 1))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const state = spent ? 'spent' : 'active';
  return `${id.padEnd(5)} ${kind.padEnd(17)} ${state.padEnd(6)} fired ${fired}${until ? ` until ${until}` : ''}${params ? `  ${params}` : ''}`;
}
