import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearState, restoreState, type StateInfo, saveState, stateOwners } from './admin';
import { balanceOf, fundTo } from './bank-client';
import { adminTokenFile, type StackInfo } from './stack-file';

/** The stack's admin token: the faucet needs it when the bank listens beyond loopback. */
const adminToken = (info: StackInfo) => readFileSync(adminTokenFile(info.dataDir), 'utf8').trim();

/** The snapshot `up` takes right after seeding a fresh data dir; `reset` restores it. */
export const SEED_SNAPSHOT = '@seed';

/**
 * Funds the dev accounts that have never been funded and, on SQLite, records the `@seed` snapshot
 * that `reset` returns to.
 */
export async function seed(info: StackInfo, accounts: { address: string }[], fund: string): Promise<void> {
  const bank = info.urls.bank;
  if (!bank) throw new Error('the stack has no bank');
  // accounts someone already used keep their balance (PostgreSQL stacks are seeded on every start)
  for (const a of accounts)
    if ((await balanceOf(bank, a.address)) === '0') await fundTo(bank, a.address, fund, adminToken(info));
  // each service copies its own database, all at once; an existing seed copy is never replaced (a
  // service added to the stack later gets its own seed, the others keep theirs)
  await Promise.all(
    (await stateOwners(info))
      .filter((o) => o.state.snapshots && !hasSnapshotCopy(info.dataDir, SEED_SNAPSHOT, o.state))
      .map((o) => saveState(info, o.service, SEED_SNAPSHOT)),
  );
}

/**
 * Whether `up` must seed: some database keeps no snapshots (PostgreSQL: funded again on every start,
 * accounts already used keep their balance), or the `@seed` snapshot lacks a database of this stack
 * (a fresh data dir, or a new database layout).
 */
export async function needsSeed(info: StackInfo): Promise<boolean> {
  for (const { state } of await stateOwners(info))
    if (!state.snapshots || !hasSnapshotCopy(info.dataDir, SEED_SNAPSHOT, state)) return true;
  return false;
}

/** Whether snapshot `name` holds this database: its own file, or one from before the split. */
export function hasSnapshotCopy(dataDir: string, name: string, state: StateInfo): boolean {
  const dir = join(dataDir, 'snapshots', name);
  return (
    state.snapshotFile !== undefined &&
    (existsSync(join(dir, state.snapshotFile)) || existsSync(join(dir, 'dcp-emu.sqlite')))
  );
}

/** Back to the seeded state: restore `@seed` (SQLite), or clear and fund again (PostgreSQL). */
export async function resetStack(
  info: StackInfo,
  accounts: { address: string }[],
  fund: string,
): Promise<void> {
  const owners = await stateOwners(info);
  // separate databases: restored (or cleared) side by side
  await Promise.all(
    owners.map(({ service, state }) =>
      state.snapshots ? restoreState(info, service, SEED_SNAPSHOT) : clearState(info, service),
    ),
  );
  if (owners.some((o) => !o.state.snapshots)) {
    const bank = info.urls.bank;
    if (!bank) throw new Error('the stack has no bank');
    for (const a of accounts) await fundTo(bank, a.address, fund, adminToken(info));
  }
}

/** The dev accounts and their start balance, kept beside the data so `reset` and `status` use them. */
export interface DevSettings {
  fund: string;
  accounts: { index: number; address: string }[];
}

export function devSettingsFile(dataDir: string): string {
  return join(dataDir, 'dev-accounts.json');
}

export function readDevSettings(dataDir: string): DevSettings {
  try {
    return JSON.parse(readFileSync(devSettingsFile(dataDir), 'utf8')) as DevSettings;
  } catch {
    return { fund: '1000', accounts: [] };
  }
}
