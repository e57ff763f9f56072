import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearState, restoreState, saveState, stateOwners } from './admin';
import { balanceOf, fundTo } from './bank-client';
import type { StackInfo } from './stack-file';

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
    if ((await balanceOf(bank, a.address)) === '0') await fundTo(bank, a.address, fund);
  for (const { service, state } of await stateOwners(info))
    if (state.snapshots) await saveState(info, service, SEED_SNAPSHOT);
}

/**
 * Whether `up` must seed: some database keeps no snapshots (PostgreSQL: funded again on every start,
 * accounts already used keep their balance), or the `@seed` snapshot lacks a database of this stack
 * (a fresh data dir, or a new database layout).
 */
export async function needsSeed(info: StackInfo): Promise<boolean> {
  for (const { state } of await stateOwners(info)) {
    if (!state.snapshots || !state.snapshotFile) return true;
    if (!existsSync(join(info.dataDir, 'snapshots', SEED_SNAPSHOT, state.snapshotFile))) return true;
  }
  return false;
}

/** Back to the seeded state: restore `@seed` (SQLite), or clear and fund again (PostgreSQL). */
export async function resetStack(
  info: StackInfo,
  accounts: { address: string }[],
  fund: string,
): Promise<void> {
  const owners = await stateOwners(info);
  for (const { service, state } of owners) {
    if (state.snapshots) await restoreState(info, service, SEED_SNAPSHOT);
    else await clearState(info, service);
  }
  if (owners.some((o) => !o.state.snapshots)) {
    const bank = info.urls.bank;
    if (!bank) throw new Error('the stack has no bank');
    for (const a of accounts) await fundTo(bank, a.address, fund);
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
