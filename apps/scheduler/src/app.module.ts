import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule, HealthModule } from '@dcp-emu/nest-kit';
import type { SchedulerConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: SchedulerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.forRoot({ name: 'scheduler', version: '0.1.0' }),
        DatabaseModule.forRoot({ url: config.databaseUrl, dataDir: config.dataDir }),
      ],
    };
  }
}
