import { randomUUID } from 'node:crypto';
import type { LedgerStore } from './store';

/** Time, behind a port so tests and time features can drive it. */
export interface Clock {
  now(): Date;
}

/** Ids of transactions and holds. */
export interface IdGenerator {
  next(kind: 'tx' | 'hold'): string;
}

export const systemClock: Clock = { now: () => new Date() };

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
