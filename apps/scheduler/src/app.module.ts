import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule, HealthModule, RestAuthModule, StateModule, TimeModule } from '@dcp-emu/nest-kit';
import type { SchedulerConfig } from './config';
import { SCHEDULER_CORE } from './core';
import { DcpModule } from './dcp/dcp.module';
import type { BankPort } from './ports/bank.port';
import { type Clock, VirtualClock } from './ports/clock';

@Module({})
export class AppModule {
  static forRoot(config: SchedulerConfig, overrides: { clock?: Clock; bank?: BankPort } = {}): DynamicModule {
    // virtual time: leases, lease expiry and abandoned jobs run on this clock (`/admin/time`)
    const clock = overrides.clock ?? new VirtualClock();
    return {
      module: AppModule,
      imports: [
        HealthModule.forRoot({ name: 'scheduler', version: '0.1.0' }),
        RestAuthModule.forRoot({ host: config.host }),
        DatabaseModule.forRoot({ url: config.databaseUrl, dataDir: config.dataDir }),
        DcpModule.forRoot(config, { ...overrides, clock }),
        StateModule.forRoot({
          url: config.databaseUrl,
          dataDir: config.dataDir,
          participant: SCHEDULER_CORE,
        }),
        ...(clock instanceof VirtualClock ? [TimeModule.forRoot({ clock })] : []),
      ],
    };
  }
}
