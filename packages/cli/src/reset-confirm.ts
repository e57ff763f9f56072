import { createInterface } from 'node:readline/promises';
import type { StateInfo } from './admin';

/**
 * What `reset` deletes when a database keeps no snapshots (PostgreSQL: the tables are emptied, not
 * restored from a copy), or undefined when every database is restored from its `@seed` copy.
 */
export function destructiveResetNotice(owners: { service: string; state: StateInfo }[]): string | undefined {
  const cleared = owners.filter((o) => !o.state.snapshots);
  if (!cleared.length) return undefined;
  const what: Record<string, string> = {
    scheduler: 'every job, slice, result, compute group and worker record',
    bank: 'every bank account (not only the dev accounts), balance, hold and transaction',
    portal: "the portal's users and sessions",
  };
  return [
    'reset empties these databases (there is no copy to go back to; back up first with pg_dump or `dcp-emu backup`):',
    ...cleared.map((o) => `  ${o.service} (${o.state.database}): ${what[o.service] ?? 'all its tables'}`),
    'then funds the dev accounts again (none on a `serve` stack).',
  ].join('\n');
}

/** Asks on the terminal; without one (scripts, CI) the answer is no — pass `--yes` there. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
