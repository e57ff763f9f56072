import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Database } from '@dcp-emu/db';
import type { Clock } from '@dcp-emu/protocol/node';
import { DATABASE } from '@dcp-emu/nest-kit';
import { type BankLedger, createBankLedger } from './accounts/bank-ledger';
import { PrismaLedgerStore } from './accounts/prisma-ledger.store';
import { type SettlementDb, sqliteSettlementDb } from './accounts/sqlite-settlement';
import type { FaucetPolicy } from './faucet/faucet-policy';

/** Injection token of the bank's `BankLedger` (every money use case over the Prisma store). */
export const BANK_LEDGER = Symbol('BANK_LEDGER');
/** The settlement hot path's own connection (SQLite), or null (PostgreSQL: Prisma's set-based batch). */
const SETTLEMENT_DB = Symbol('SETTLEMENT_DB');

class SettlementDbCloser implements OnApplicationShutdown {
  constructor(@Inject(SETTLEMENT_DB) private readonly db: SettlementDb | null) {}
  onApplicationShutdown() {
    this.db?.close();
  }
}

/** The ledger over the stack's database (`DATABASE` from nest-kit's `DatabaseModule`). */
@Global()
@Module({})
export class LedgerModule {
  static forRoot(opts: { faucet: FaucetPolicy; clock?: Clock }): DynamicModule {
    return {
      module: LedgerModule,
      providers: [
        {
          provide: SETTLEMENT_DB,
          inject: [DATABASE],
          useFactory: (db: Database): Promise<SettlementDb | null> | null =>
            db.location.provider === 'sqlite' ? sqliteSettlementDb(db.location.target) : null,
        },
        SettlementDbCloser,
        {
          provide: BANK_LEDGER,
          inject: [DATABASE, SETTLEMENT_DB],
          useFactory: (db: Database, settlementDb: SettlementDb | null): BankLedger =>
            createBankLedger({
              store: new PrismaLedgerStore(db.prisma, db.provider, settlementDb ? { settlementDb } : {}),
              faucet: opts.faucet,
              ...(opts.clock ? { clock: opts.clock } : {}),
            }),
        },
      ],
      exports: [BANK_LEDGER],
    };
  }
}
