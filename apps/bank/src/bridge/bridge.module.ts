import { type DynamicModule, Module } from '@nestjs/common';
import type { Clock } from '@dcp-emu/protocol/node';
import type { Database } from '@dcp-emu/db';
import { DATABASE } from '@dcp-emu/nest-kit';
import { createPrismaBridge } from './bridge';
import { BRIDGE, BridgeController } from './bridge.controller';

/** The emulated blockchain bridge over the stack's database (`DATABASE` from nest-kit). */
@Module({})
export class BridgeModule {
  static forRoot(opts: { clock?: Clock } = {}): DynamicModule {
    return {
      module: BridgeModule,
      controllers: [BridgeController],
      providers: [
        { provide: BRIDGE, inject: [DATABASE], useFactory: (db: Database) => createPrismaBridge(db, opts) },
      ],
      exports: [BRIDGE],
    };
  }
}
