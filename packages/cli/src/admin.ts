import { readFileSync } from 'node:fs';
import { adminTokenFile, type StackInfo } from './stack-file';

/** Services that carry the state surface (`/admin/state`), each over its own database, in this order. */
const STATEFUL = ['scheduler', 'bank', 'portal'] as const;

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
  /** the file name of this database in a snapshot folder (SQLite) */
  snapshotFile?: string;
}

/**
 * One service per database: by default each service has its own, and each copies its own. Services
 * that share one (`--database-url file:…`) are represented by the first of them (the scheduler,
 * which pauses its in-memory state around a restore).
 */
export async function stateOwners(info: StackInfo): Promise<{ service: string; state: StateInfo }[]> {
  const owners: { service: string; state: StateInfo }[] = [];
  for (const service of STATEFUL) {
    if (!info.urls[service]) continue;
    const state = await call<StateInfo>(info, service, '');
    if (!owners.some((o) => o.state.database === state.database)) owners.push({ service, state });
  }
  if (!owners.length) throw new AdminError('no service of the stack keeps state');
  const byFile = new Map<string, string>();
  for (const { service, state } of owners) {
    if (!state.snapshotFile) continue;
    const other = byFile.get(state.snapshotFile);
    if (other)
      throw new AdminError(
        `the ${other} and ${service} databases are both named ${state.snapshotFile}: their snapshots would overwrite each other (give the files different names)`,
      );
    byFile.set(state.snapshotFile, service);
  }
  return owners;
}

export const saveState = (info: StackInfo, service: string, name: string) =>
  call<{ file: string }>(info, service, '/save', { name });
export const restoreState = (info: StackInfo, service: string, name: string) =>
  call<{ file: string; tables: number }>(info, service, '/restore', { name });
export const clearState = (info: StackInfo, service: string) =>
  call<{ tables: number }>(info, service, '/clear', {});
