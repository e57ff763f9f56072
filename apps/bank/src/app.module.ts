import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule, HealthModule } from '@dcp-emu/nest-kit';
import type { BankConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: BankConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.forRoot({ name: 'bank', version: '0.1.0' }),
        DatabaseModule.forRoot({ url: config.databaseUrl, dataDir: config.dataDir }),
      ],
    };
  }
}
