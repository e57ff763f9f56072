// Test support, not a suite (vitest collects *.spec.ts; the build leaves out *.test.ts): opens the
// ledger store under test on each backend, so every ledger spec runs on memory, SQLite and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@dcp-emu/db';
import { afterAll, beforeAll, inject } from 'vitest';
import type { AccountId } from '../ledger/account-id';
import { MemoryLedgerStore } from '../ledger/memory-store';
import type { LedgerStore } from '../ledger/store';
import { PrismaLedgerStore } from './prisma-ledger.store';
import { sqliteSettlementDb } from './sqlite-settlement';

declare module 'vitest' {
  export interface ProvidedContext {
    /** admin URL of the run's PostgreSQL server (packages/testing's global setup provides it) */
    pgUrl: string;
  }
}

export const STORE_KINDS = ['memory', 'sqlite', 'postgresql'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface OpenedStore {
  readonly kind: StoreKind;
  readonly store: LedgerStore;
  /** runs raw SQL on the database behind a Prisma store (absent for memory) */
  readonly execute?: (sql: string) => Promise<number>;
  close(): Promise<void>;
}

/** A fresh, migrated, empty ledger on the given backend. */
export async function openLedgerStore(kind: StoreKind): Promise<OpenedStore> {
  if (kind === 'memory') return { kind, store: new MemoryLedgerStore(), close: async () => undefined };
  // @dcp-emu/testing is an ES module; this file compiles to CommonJS.
  const { freshDatabase } = await import('@dcp-emu/testing');
  const database = await freshDatabase(kind, kind === 'postgresql' ? inject('pgUrl') : undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bank-'));
  const db = await openDatabase({ url: database.url, dataDir });
  // as the bank runs: SQLite settles on a connection of its own
  const settlementDb = kind === 'sqlite' ? await sqliteSettlementDb(db.location.target) : undefined;
  return {
    kind,
    store: new PrismaLedgerStore(db.prisma, db.provider, settlementDb ? { settlementDb } : {}),
    execute: (sql) => db.prisma.$executeRawUnsafe(sql),
    async close() {
      settlementDb?.close();
      await db.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens a store for the enclosing describe block; read `.store` inside tests. */
export function useLedgerStore(kind: StoreKind): { readonly store: LedgerStore } {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await openLedgerStore(kind);
  });
  afterAll(async () => {
    await opened?.close();
  });
  return {
    get store() {
      if (!opened) throw new Error('the ledger store is opened in beforeAll');
      return opened.store;
    },
  };
}

/** A new random DCP address, as a client would send it (mixed case is fine). */
export function randomAddress(): string {
  return `0x${randomBytes(20).toString('hex')}`;
}

export function asAccount(address: string): AccountId {
  return address.toLowerCase() as AccountId;
}
