import { readFileSync } from 'node:fs';
import { adminTokenFile, type StackInfo } from './stack-file';

/** Services that carry the state surface (`/admin/state`), in the order they are asked. */
const STATEFUL = ['scheduler', 'bank'] as const;

export class AdminError extends Error {}

async function call<T>(info: StackInfo, service: string, path: string, body?: object): Promise<T> {
  const base = info.urls[service];
  if (!base) throw new AdminError(`the stack has no ${service}`);
  const token = readFileSync(adminTokenFile(info.dataDir), 'utf8').trim();
  const res = await fetch(new URL(`admin/state${path}`, base), {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(120_000),
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
      (json as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 200);
    throw new AdminError(`${service}: ${message} (HTTP ${res.status})`);
  }
  return json as T;
}

export interface StateInfo {
  provider: 'sqlite' | 'postgresql';
  database: string;
  snapshots: boolean;
}

/**
 * One service per database: the services of `up` share one database, and its copy is made by the
 * first of them (the scheduler, which pauses its in-memory state around a restore).
 */
export async function stateOwners(info: StackInfo): Promise<{ service: string; state: StateInfo }[]> {
  const owners: { service: string; state: StateInfo }[] = [];
  for (const service of STATEFUL) {
    if (!info.urls[service]) continue;
    const state = await call<StateInfo>(info, service, '');
    if (!owners.some((o) => o.state.database === state.database)) owners.push({ service, state });
  }
  if (!owners.length) throw new AdminError('no service of the stack keeps state');
  return owners;
}

export const saveState = (info: StackInfo, service: string, name: string) =>
  call<{ file: string }>(info, service, '/save', { name });
export const restoreState = (info: StackInfo, service: string, name: string) =>
  call<{ file: string; tables: number }>(info, service, '/restore', { name });
export const clearState = (info: StackInfo, service: string) =>
  call<{ tables: number }>(info, service, '/clear', {});
