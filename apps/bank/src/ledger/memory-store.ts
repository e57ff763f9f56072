import { type AccountId, accountKind } from './account-id';
import { MAX_UNITS } from './amount';
import { DuplicateIdempotencyKey, LedgerErrors } from './errors';
import type { Hold, HoldStatus } from './hold';
import type { HoldId, JournalTransaction, NewTransaction } from './journal';
import {
  type AccountRecord,
  type HistoryQuery,
  historyLimit,
  type LedgerSnapshot,
  type LedgerStore,
  type LedgerTx,
  type KeyRecord,
  type Settlement,
  SettlementConflict,
} from './store';

/**
 * The ledger store in memory: transactions run one at a time and roll back through an undo log.
 * Same rules as the database stores; used by unit tests, by the scheduler's tests and as the
 * reference model of the property tests.
 */
export class MemoryLedgerStore implements LedgerStore {
  private readonly accounts = new Map<AccountId, AccountRecord>();
  private readonly holds = new Map<HoldId, Hold>();
  private readonly journal: JournalTransaction[] = [];
  private readonly byKey = new Map<string, JournalTransaction>();
  private readonly byId = new Map<string, JournalTransaction>();
  private tail: Promise<unknown> = Promise.resolve();

  transaction<T>(fn: (tx: LedgerTx) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => this.run(fn));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run<T>(fn: (tx: LedgerTx) => Promise<T>): Promise<T> {
    const undo: Array<() => void> = [];
    const tx: LedgerTx = {
      getAccount: async (id) => this.accounts.get(id) ?? null,
      lockHold: async (id) => this.holds.get(id) ?? null,
      findByIdempotencyKey: async (key) => this.byKey.get(key) ?? null,
      append: async (t) => this.append(t, undo),
      appendMany: async (ts) => ts.map((t) => this.append(t, undo)),
      findByIdempotencyKeys: async (keys) =>
        keys.map((k) => this.byKey.get(k)).filter((t): t is JournalTransaction => t !== undefined),
      saveHold: async (next, previous) => {
        const current = this.holds.get(next.id);
        if ((previous === null) !== (current === undefined)) throw LedgerErrors.holdChanged(next.id);
        if (
          previous &&
          current &&
          (current.remaining !== previous.remaining || current.status !== previous.status)
        ) {
          throw LedgerErrors.holdChanged(next.id);
        }
        this.holds.set(next.id, next);
        undo.push(() => (current ? this.holds.set(next.id, current) : this.holds.delete(next.id)));
      },
    };
    try {
      return await fn(tx);
    } catch (e) {
      for (const step of undo.reverse()) step();
      throw e;
    }
  }

  private append(t: NewTransaction, undo: Array<() => void>): JournalTransaction {
    if (t.idempotencyKey !== undefined && this.byKey.has(t.idempotencyKey))
      throw new DuplicateIdempotencyKey(t.idempotencyKey);
    for (const p of t.postings) {
      if (p.book.kind !== 'account') continue;
      const id = p.book.account;
      const current = this.accounts.get(id);
      const kind = accountKind(id);
      if (p.amount < 0n) {
        // System accounts exist implicitly; a user account must have been opened (or credited) before.
        if (!current && kind === 'user') throw LedgerErrors.noAccount(id);
        const balance = current?.balance ?? 0n;
        const floor = kind === 'system' ? -MAX_UNITS : 0n;
        if (balance + p.amount < floor) {
          throw kind === 'system' ? LedgerErrors.overflow(id) : LedgerErrors.noFunds(id, balance, -p.amount);
        }
      } else if ((current?.balance ?? 0n) + p.amount > MAX_UNITS) {
        throw LedgerErrors.overflow(id);
      }
      this.accounts.set(id, { id, kind, balance: (current?.balance ?? 0n) + p.amount });
      undo.push(() => (current ? this.accounts.set(id, current) : this.accounts.delete(id)));
    }
    const entry: JournalTransaction = { ...t, seq: this.journal.length + 1 };
    this.journal.push(entry);
    this.byId.set(entry.id, entry);
    if (t.idempotencyKey !== undefined) this.byKey.set(t.idempotencyKey, entry);
    undo.push(() => {
      this.journal.pop();
      this.byId.delete(entry.id);
      if (t.idempotencyKey !== undefined) this.byKey.delete(t.idempotencyKey);
    });
    return entry;
  }

  async openAccount(id: AccountId): Promise<AccountRecord> {
    return this.transaction(async () => {
      const current = this.accounts.get(id);
      if (current) return current;
      const created: AccountRecord = { id, kind: accountKind(id), balance: 0n };
      this.accounts.set(id, created);
      return created;
    });
  }

  async getAccount(id: AccountId): Promise<AccountRecord | null> {
    return this.accounts.get(id) ?? null;
  }

  async getHold(id: HoldId): Promise<Hold | null> {
    return this.holds.get(id) ?? null;
  }

  async listHolds(account: AccountId, status?: HoldStatus): Promise<Hold[]> {
    return [...this.holds.values()].filter((h) => h.account === account && (!status || h.status === status));
  }

  async history(account: AccountId, query?: HistoryQuery): Promise<JournalTransaction[]> {
    const out: JournalTransaction[] = [];
    const limit = historyLimit(query);
    for (let i = this.journal.length - 1; i >= 0 && out.length < limit; i--) {
      const t = this.journal[i]!;
      if (query?.beforeSeq !== undefined && t.seq >= query.beforeSeq) continue;
      if (t.postings.some((p) => p.book.kind === 'account' && p.book.account === account)) out.push(t);
    }
    return out;
  }

  async getTransaction(id: string): Promise<JournalTransaction | null> {
    return this.byId.get(id) ?? null;
  }

  async jobTransactions(job: string): Promise<JournalTransaction[]> {
    return this.journal.filter((t) => t.refs.job === job);
  }

  async snapshot(): Promise<LedgerSnapshot> {
    return this.transaction(async () => ({
      accounts: [...this.accounts.values()],
      holds: [...this.holds.values()],
      transactions: [...this.journal],
    }));
  }

  async readForSettlement(
    holds: readonly HoldId[],
    keys: readonly string[],
  ): Promise<{ holds: Hold[]; prior: KeyRecord[] }> {
    return {
      holds: holds.map((id) => this.holds.get(id)).filter((h): h is Hold => h !== undefined),
      prior: keys.flatMap((key) => {
        const t = this.byKey.get(key);
        return t ? [{ key, id: t.id, fingerprint: t.fingerprint }] : [];
      }),
    };
  }

  async settle(settlement: Settlement): Promise<Hold[]> {
    return this.transaction(async (tx) => {
      for (const t of settlement.transactions)
        if (t.idempotencyKey !== undefined && this.byKey.has(t.idempotencyKey))
          throw new SettlementConflict(`key ${t.idempotencyKey} is in the journal`);
      const after: Hold[] = [];
      for (const [id, debit] of settlement.holdDebits) {
        const hold = this.holds.get(id);
        if (!hold || hold.remaining < debit) throw new SettlementConflict(`hold ${id} cannot give ${debit}`);
        const next = { ...hold, captured: hold.captured + debit, remaining: hold.remaining - debit };
        await tx.saveHold(next, hold);
        after.push(next);
      }
      await tx.appendMany(settlement.transactions);
      return after;
    });
  }
}
