import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DatabaseModule, HealthModule, RestAuthModule, StateModule, TimeModule } from '@dcp-emu/nest-kit';
import { VirtualClock } from '@dcp-emu/protocol/node';
import { BankController } from './api/bank.controller';
import { DcpErrorFilter } from './api/error.filter';
import { BridgeModule } from './bridge/bridge.module';
import type { BankConfig } from './config';
import { LedgerModule } from './ledger.module';
import { BankMetricsController } from './metrics/metrics.controller';
import { TellerModule } from './teller/teller.module';

@Module({})
export class AppModule {
  static forRoot(config: BankConfig): DynamicModule {
    // virtual time: the ledger's transaction and hold timestamps (`/admin/time`)
    const clock = new VirtualClock();
    return {
      module: AppModule,
      imports: [
        HealthModule.forRoot({ name: 'bank', version: '0.1.0' }),
        RestAuthModule.forRoot({ host: config.host }),
        DatabaseModule.forRoot({ url: config.databaseUrl, dataDir: config.dataDir }),
        LedgerModule.forRoot({ faucet: config.faucet, clock }),
        BridgeModule.forRoot({ clock }),
        TellerModule.forRoot({
          identityFile: config.identityFile,
          logLevel: config.logLevel,
          schedulers: config.schedulers,
          schedulerUrl: config.schedulerUrl,
        }),
        StateModule.forRoot({ url: config.databaseUrl, dataDir: config.dataDir }),
        TimeModule.forRoot({ clock }),
      ],
      controllers: [BankController, BankMetricsController],
      // every error answer (also body-parser failures and unknown routes) as {error: {code, message}}
      providers: [{ provide: APP_FILTER, useClass: DcpErrorFilter }],
    };
  }
}
