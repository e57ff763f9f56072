import type { Server } from 'node:http';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Readiness } from '@dcp-emu/nest-kit';
import {
  type AttachedTarget,
  attachDcpTarget,
  DcpTarget,
  loadOrCreateIdentity,
} from '@dcp-emu/protocol/node';
import { createLogger, type LogLevel } from '@dcp-emu/service-kit';
import type { BankLedger } from '../accounts/bank-ledger';
import {
  ConfiguredSchedulerTrust,
  ESCROW_PATH,
  ESCROW_SERVICE,
  escrowOperations,
} from '../escrow/escrow-service';
import { BANK_LEDGER } from '../ledger.module';
import { TELLER_PATH, TELLER_SERVICE, tellerOperations } from './teller';

/** Injection token of the bank's `DcpTarget` (serves `bankTeller`). */
export const TELLER_TARGET = Symbol('TELLER_TARGET');
const SCHEDULER_TRUST = Symbol('SCHEDULER_TRUST');

/**
 * Mounts the teller on Nest's http server once the app is up: 5.x clients at
 * `/bank-teller/dcp5/socketio`, 4.x clients at `/v4/bank-teller/`; and the scheduler's escrow
 * channel at `/escrow/dcp5/socketio`.
 */
@Injectable()
export class TellerServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  #attached?: AttachedTarget;

  constructor(
    @Inject(TELLER_TARGET) private readonly target: DcpTarget,
    @Inject(BANK_LEDGER) private readonly bank: BankLedger,
    @Inject(HttpAdapterHost) private readonly http: HttpAdapterHost,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(SCHEDULER_TRUST) private readonly trust: ConfiguredSchedulerTrust,
  ) {}

  onApplicationBootstrap(): void {
    this.target.service(TELLER_SERVICE, tellerOperations(this.bank), { path: TELLER_PATH });
    this.target.service(ESCROW_SERVICE, escrowOperations(this.bank, this.trust), { path: ESCROW_PATH });
    this.#attached = attachDcpTarget(this.target, this.http.httpAdapter.getHttpServer() as Server);
    this.readiness.add('teller', () => {
      if (!this.#attached) throw new Error('DCP teller not attached');
    });
  }

  /**
   * Before Nest closes the http server: that close waits for every open connection, and the DCP
   * peers' socket.io connections only end when the target closes them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.target.close();
    await this.#attached?.close();
  }
}

@Module({})
export class TellerModule {
  static forRoot(opts: {
    identityFile: string;
    logLevel: LogLevel;
    schedulers: string[];
    schedulerUrl?: string;
  }): DynamicModule {
    return {
      module: TellerModule,
      providers: [
        {
          provide: TELLER_TARGET,
          useFactory: () =>
            new DcpTarget({
              identity: loadOrCreateIdentity(opts.identityFile),
              logger: createLogger('bank-teller', opts.logLevel),
            }),
        },
        {
          provide: SCHEDULER_TRUST,
          useFactory: () => new ConfiguredSchedulerTrust(opts.schedulers, opts.schedulerUrl),
        },
        TellerServer,
      ],
      exports: [TELLER_TARGET],
    };
  }
}
