import { randomUUID } from 'node:crypto';
import type { Clock } from '@dcp-emu/protocol/node';
import type { LedgerStore } from './store';

/** Time: the one Clock port of @dcp-emu/protocol (virtual in the running service: `/admin/time`). */
export { type Clock, systemClock } from '@dcp-emu/protocol/node';

/** Ids of transactions and holds. */
export interface IdGenerator {
  next(kind: 'tx' | 'hold'): string;
}

export const randomIds: IdGenerator = { next: (kind) => `${kind}_${randomUUID()}` };

/** Deterministic ids for tests: tx_1, hold_1, tx_2, … */
export function sequentialIds(): IdGenerator {
  const counters = { tx: 0, hold: 0 };
  return { next: (kind) => `${kind}_${++counters[kind]}` };
}

/** What every ledger use case is built from. */
export interface LedgerDeps {
  readonly store: LedgerStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}
