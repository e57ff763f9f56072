import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Database } from '@dcp-emu/db';
import type { Clock } from '@dcp-emu/protocol/node';
import { DATABASE } from '@dcp-emu/nest-kit';
import { type BankLedger, createBankLedger } from './accounts/bank-ledger';
import { PrismaLedgerStore } from './accounts/prisma-ledger.store';
import type { FaucetPolicy } from './faucet/faucet-policy';

/** Injection token of the bank's `BankLedger` (every money use case over the Prisma store). */
export const BANK_LEDGER = Symbol('BANK_LEDGER');

/** The ledger over the stack's database (`DATABASE` from nest-kit's `DatabaseModule`). */
@Global()
@Module({})
export class LedgerModule {
  static forRoot(opts: { faucet: FaucetPolicy; clock?: Clock }): DynamicModule {
    return {
      module: LedgerModule,
      providers: [
        {
          provide: BANK_LEDGER,
          inject: [DATABASE],
          useFactory: (db: Database): BankLedger =>
            createBankLedger({
              store: new PrismaLedgerStore(db.prisma, db.provider),
              faucet: opts.faucet,
              ...(opts.clock ? { clock: opts.clock } : {}),
            }),
        },
      ],
      exports: [BANK_LEDGER],
    };
  }
}
