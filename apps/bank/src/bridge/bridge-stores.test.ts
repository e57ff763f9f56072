// Test support, not a suite (vitest collects *.spec.ts; the build leaves out *.test.ts): a fresh,
// migrated database on SQLite or PostgreSQL with the bank ledger and the bridge over it, plus
// signing wallets, so every bridge spec runs on both backends against real databases.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@dcp-emu/db';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { type BankLedger, createBankLedger } from '../accounts/bank-ledger';
import { PrismaLedgerStore } from '../accounts/prisma-ledger.store';
import { auditLedger } from '../ledger/invariants';
import { type Bridge, createBridge } from './bridge';
import { auditBridge } from './bridge-audit';
import type { SignedBridgeRequest } from './bridge-movement';
import type { BridgeStore } from './bridge-store';
import { type BridgeKind } from './chain';
import { bridgeMessage } from './bridge-movement';
import { PrismaBridgeStore } from './prisma-bridge.store';

declare module 'vitest' {
  export interface ProvidedContext {
    /** admin URL of the run's PostgreSQL server (packages/testing's global setup provides it) */
    pgUrl: string;
  }
}

export const BRIDGE_PROVIDERS = ['sqlite', 'postgresql'] as const;
export type BridgeProvider = (typeof BRIDGE_PROVIDERS)[number];

export interface BridgeFixture {
  readonly ledger: BankLedger;
  readonly store: BridgeStore;
  readonly bridge: Bridge;
  /** runs raw SQL on the database */
  execute(sql: string): Promise<number>;
}

/** Opens a fresh database for the enclosing describe block; read the fixture inside tests. */
export function useBridge(provider: BridgeProvider): BridgeFixture {
  let opened: (BridgeFixture & { close(): Promise<void> }) | undefined;
  beforeAll(async () => {
    // @dcp-emu/testing is an ES module; this file compiles to CommonJS.
    const { freshDatabase } = await import('@dcp-emu/testing');
    const database = await freshDatabase(provider, provider === 'postgresql' ? inject('pgUrl') : undefined);
    const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bridge-'));
    const db = await openDatabase({ url: database.url, dataDir });
    const store = new PrismaBridgeStore(db.prisma, db.provider);
    opened = {
      ledger: createBankLedger({ store: new PrismaLedgerStore(db.prisma, db.provider) }),
      store,
      bridge: createBridge({ store }),
      execute: (sql) => db.prisma.$executeRawUnsafe(sql),
      async close() {
        await db.close();
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
  afterAll(async () => {
    await opened?.close();
  });
  const get = (): BridgeFixture => {
    if (!opened) throw new Error('the bridge database is opened in beforeAll');
    return opened;
  };
  return {
    get ledger() {
      return get().ledger;
    },
    get store() {
      return get().store;
    },
    get bridge() {
      return get().bridge;
    },
    execute: (sql) => get().execute(sql),
  };
}

/** A fresh key pair: the address as a client would send it (EIP-55 checksummed). */
export function randomWallet(): Wallet {
  return new Wallet(`0x${randomBytes(32).toString('hex')}`);
}

/** A request signed by `signer` (the owner unless told otherwise), as the portal would send it. */
export async function signedRequest(
  kind: BridgeKind,
  values: { address: string; amount: string | number; nonce: string | number },
  signer: Wallet,
): Promise<SignedBridgeRequest> {
  return { ...values, signature: await signer.signMessage(bridgeMessage(kind, values)) };
}

/** Both ledgers, for "nothing changed" comparisons. */
export async function bothLedgers(f: BridgeFixture) {
  return { bank: await f.ledger.store.snapshot(), chain: await f.store.snapshot() };
}

/** Asserts both ledgers' rules and the bridge invariant Σ chain balances = bridge account. */
export async function expectConsistent(f: BridgeFixture): Promise<void> {
  const { bank, chain } = await bothLedgers(f);
  expect(auditLedger(bank).problems).toEqual([]);
  const audit = auditBridge(chain);
  expect(audit.problems).toEqual([]);
  expect(audit.onChain).toBe(audit.bridged);
}
