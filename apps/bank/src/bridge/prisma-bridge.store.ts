import { type PrismaDb, type Provider, withDbRetry } from '@dcp-emu/db';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { PrismaLedgerStore } from '../accounts/prisma-ledger.store';
import type { AccountId } from '../ledger/account-id';
import { formatDcc } from '../ledger/amount';
import type { AccountRecord, LedgerStore } from '../ledger/store';
import {
  type BridgeSnapshot,
  type BridgeStore,
  type BridgeTx,
  type ChainAccountRecord,
  type ChainHistoryQuery,
  DEFAULT_CHAIN_HISTORY_LIMIT,
  MAX_CHAIN_HISTORY_LIMIT,
  type StoredChainTransaction,
} from './bridge-store';
import { BRIDGE_ACCOUNT, type BridgeKind } from './chain';

/** The client inside an interactive transaction (what Prisma calls TransactionClient). */
type Tx = Omit<PrismaDb, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

interface ChainTransactionRow {
  blockNumber: number;
  hash: string;
  kind: string;
  address: string;
  amount: bigint;
  nonce: string;
  fingerprint: string;
  bankTransactionId: string;
  bankBalance: bigint;
  chainBalance: bigint;
  createdAt: Date;
}

function toChainTransaction(row: ChainTransactionRow): StoredChainTransaction {
  return {
    hash: row.hash,
    kind: row.kind as BridgeKind,
    address: row.address as AccountId,
    amount: row.amount,
    nonce: row.nonce,
    blockNumber: row.blockNumber,
    at: row.createdAt,
    bankTransactionId: row.bankTransactionId,
    fingerprint: row.fingerprint,
    bankBalance: row.bankBalance,
    chainBalance: row.chainBalance,
  };
}

/**
 * The ledger's own Prisma store, running inside the bridge's interactive transaction: its
 * `transaction(fn)` joins the open one instead of starting another, so the journal entry and the
 * chain rows commit (or roll back) together. No retries inside: the bridge retries the whole thing.
 */
function joinedLedgerStore(ptx: Tx, provider: Provider): LedgerStore {
  const joined = new Proxy(ptx, {
    get(target, property) {
      if (property === '$transaction') return <T>(fn: (inner: Tx) => Promise<T>) => fn(ptx);
      return Reflect.get(target, property);
    },
  });
  return new PrismaLedgerStore(joined as unknown as PrismaDb, provider, { attempts: 1 });
}

function chainNoAccount(address: AccountId): DcpError {
  return new DcpError(
    DcpErrorCode.ENOACCOUNT,
    `${address} has no balance on the (emulated) chain: nothing was ever withdrawn to it`,
    { address },
  );
}

function chainNoFunds(address: AccountId, balance: bigint, needed: bigint): DcpError {
  return new DcpError(
    DcpErrorCode.ENOFUNDS,
    `Insufficient funds on the (emulated) chain for ${address}: balance ${formatDcc(balance)} DCC, needs ${formatDcc(needed)} DCC`,
    { address, balance: formatDcc(balance), needed: formatDcc(needed) },
  );
}

export interface PrismaBridgeStoreOptions {
  /** attempts for a transaction that hit a transient error, with back-off (default: unlimited within 10 min) */
  readonly attempts?: number;
  /** interactive transaction timeout in ms (default 30 s) */
  readonly timeoutMs?: number;
}

/**
 * Both sides of the bridge on SQLite or PostgreSQL through Prisma, in ONE database transaction per
 * movement: the bank journal entry (written by the ledger's `PrismaLedgerStore`, joined to this
 * transaction), the chain balance and the chain transaction. A crash at any point leaves either all
 * of it or none of it, so there is nothing to repair.
 */
export class PrismaBridgeStore implements BridgeStore {
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly ledger: PrismaLedgerStore;

  constructor(
    private readonly prisma: PrismaDb,
    private readonly provider: Provider,
    options: PrismaBridgeStoreOptions = {},
  ) {
    this.attempts = options.attempts ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.ledger = new PrismaLedgerStore(prisma, provider);
  }

  async transaction<T>(fn: (tx: BridgeTx) => Promise<T>): Promise<T> {
    return withDbRetry(
      () =>
        this.prisma.$transaction(
          (ptx) => joinedLedgerStore(ptx, this.provider).transaction((ltx) => fn(this.txPort(ptx, ltx))),
          { maxWait: this.timeoutMs, timeout: this.timeoutMs },
        ),
      { attempts: this.attempts },
    );
  }

  private txPort(ptx: Tx, ledger: BridgeTx['ledger']): BridgeTx {
    return {
      ledger,
      lockHead: async () => {
        // An UPDATE takes the row lock on PostgreSQL (and the write lock on SQLite) until commit.
        const lock = () =>
          ptx.bridgeChainHead.updateMany({ where: { id: 1 }, data: { height: { increment: 0 } } });
        if ((await lock()).count !== 1) {
          // The migration seeds the head; a state reset (`dcp-emu reset`) empties every table, head
          // included. Re-create it from the chain itself; racing writers meet at ON CONFLICT.
          await ptx.$executeRawUnsafe(
            'INSERT INTO "bridge_chain_head" ("id", "height") SELECT 1, COALESCE(MAX("blockNumber"), 0) FROM "bridge_chain_transactions" WHERE true ON CONFLICT ("id") DO NOTHING',
          );
          if ((await lock()).count !== 1) {
            throw new DcpError(DcpErrorCode.EINTERNAL, 'the bridge chain head cannot be created');
          }
        }
        const head = await ptx.bridgeChainHead.findUniqueOrThrow({
          where: { id: 1 },
          select: { height: true },
        });
        return head.height;
      },
      setHead: async (height) => {
        await ptx.bridgeChainHead.update({ where: { id: 1 }, data: { height } });
      },
      findByNonce: async (address, nonce) => {
        const row = await ptx.bridgeChainTransaction.findUnique({
          where: { address_nonce: { address, nonce } },
        });
        return row ? toChainTransaction(row) : null;
      },
      creditChain: async (address, amount) => {
        const row = await ptx.bridgeChainAccount.upsert({
          where: { address },
          create: { address, balance: amount },
          update: { balance: { increment: amount } },
          select: { balance: true },
        });
        return row.balance;
      },
      debitChain: async (address, amount) => {
        const updated = await ptx.bridgeChainAccount.updateMany({
          where: { address, balance: { gte: amount } },
          data: { balance: { decrement: amount } },
        });
        const row = await ptx.bridgeChainAccount.findUnique({
          where: { address },
          select: { balance: true },
        });
        if (!row) throw chainNoAccount(address);
        if (updated.count !== 1) throw chainNoFunds(address, row.balance, amount);
        return row.balance;
      },
      insert: async (t) => {
        await ptx.bridgeChainTransaction.create({
          data: {
            blockNumber: t.blockNumber,
            hash: t.hash,
            kind: t.kind,
            address: t.address,
            amount: t.amount,
            nonce: t.nonce,
            fingerprint: t.fingerprint,
            bankTransactionId: t.bankTransactionId,
            bankBalance: t.bankBalance,
            chainBalance: t.chainBalance,
            createdAt: t.at,
          },
        });
      },
    };
  }

  async chainAccount(address: AccountId): Promise<ChainAccountRecord | null> {
    const row = await this.prisma.bridgeChainAccount.findUnique({ where: { address } });
    return row ? { address: row.address as AccountId, balance: row.balance } : null;
  }

  bankAccount(address: AccountId): Promise<AccountRecord | null> {
    return this.ledger.getAccount(address);
  }

  async transactions(address: AccountId, query: ChainHistoryQuery = {}): Promise<StoredChainTransaction[]> {
    const limit = Math.max(
      1,
      Math.min(MAX_CHAIN_HISTORY_LIMIT, Math.floor(query.limit ?? DEFAULT_CHAIN_HISTORY_LIMIT)),
    );
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const rows = await this.prisma.bridgeChainTransaction.findMany({
      where: { address },
      orderBy: { blockNumber: 'desc' },
      skip: offset,
      take: limit,
    });
    return rows.map(toChainTransaction);
  }

  async snapshot(): Promise<BridgeSnapshot> {
    // a SERIALIZABLE read can lose to concurrent writers on PostgreSQL: read again
    return withDbRetry(
      async () => {
        const [head, accounts, transactions, bridge] = await this.prisma.$transaction(
          [
            this.prisma.bridgeChainHead.findUnique({ where: { id: 1 } }),
            this.prisma.bridgeChainAccount.findMany({ orderBy: { address: 'asc' } }),
            this.prisma.bridgeChainTransaction.findMany({ orderBy: { blockNumber: 'asc' } }),
            this.prisma.bankAccount.findUnique({ where: { id: BRIDGE_ACCOUNT } }),
          ],
          { isolationLevel: 'Serializable' },
        );
        return {
          height: head?.height ?? 0,
          chainAccounts: accounts.map((a) => ({ address: a.address as AccountId, balance: a.balance })),
          transactions: transactions.map(toChainTransaction),
          bridgeAccount: bridge
            ? {
                id: bridge.id as AccountId,
                kind: bridge.kind as AccountRecord['kind'],
                balance: bridge.balance,
              }
            : null,
        };
      },
      { attempts: this.attempts },
    );
  }
}
