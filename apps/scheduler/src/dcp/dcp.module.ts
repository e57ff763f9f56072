import {
  Controller,
  type DynamicModule,
  Get,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
  Param,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Database } from '@dcp-emu/db';
import { DATABASE, Readiness } from '@dcp-emu/nest-kit';
import {
  type AttachedTarget,
  attachDcpTarget,
  cryptoRandom,
  DcpTarget,
  encodeConfig,
  fileAckJournal,
  type Identity,
  loadOrCreateIdentity,
} from '@dcp-emu/protocol/node';
import { createLogger } from '@dcp-emu/service-kit';
import type { Request, Response } from 'express';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { SchedulerConfig } from '../config';
import { SCHEDULER_CONTEXT, type SchedulerContext } from '../context';
import { SCHEDULER_CORE, SchedulerCore } from '../core';
import { EventRouter } from '../events/event-router';
import { InspectController } from '../inspect/inspect.controller';
import { JnuController } from '../jnu/jnu.controller';
import { DcpBank } from '../escrow/dcp-bank';
import { Escrow, type JobMoney, NoEscrow } from '../escrow/escrow';
import { EscrowStore } from '../escrow/escrow-store';
import { FAULT_PLAN, FaultPlan } from '../faults/fault-plan';
import { FaultsController } from '../faults/faults.controller';
import { faultyBank } from '../faults/faulty-bank';
import type { BankPort } from '../ports/bank.port';
import { type Clock, systemClock } from '../ports/clock';
import { openSchedulerState } from '../state/open-state';
import { dcpClientConfig } from './dcp-config';
import { publicBases } from './public-locations';
import { MetricsController } from '../metrics/metrics.controller';
import { registerDcpServices } from './dcp-services';
import { WebClientController } from '../web/web-client.controller';

export const SCHEDULER_CONFIG = Symbol('SCHEDULER_CONFIG');
export const IDENTITY = Symbol('IDENTITY');
export const DCP_TARGET = Symbol('DCP_TARGET');
export const CLOCK = Symbol('CLOCK');

/** Mounts the DCP target on Nest's http server once the app is up; closes it on shutdown. */
@Injectable()
export class DcpServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  #attached?: AttachedTarget;

  constructor(
    @Inject(DCP_TARGET) private readonly target: DcpTarget,
    @Inject(SCHEDULER_CORE) private readonly core: SchedulerCore,
    @Inject(HttpAdapterHost) private readonly http: HttpAdapterHost,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    @Inject(FAULT_PLAN) private readonly faults: FaultPlan,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    registerDcpServices(this.target, this.core, this.faults);
    this.core.sendSchedMsg.admins = this.config.schedMsgAdmins ?? [];
    const server = this.http.httpAdapter.getHttpServer() as Server;
    // one socket.io server per service path and generation, each listening on the http server
    server.setMaxListeners(Math.max(server.getMaxListeners(), 64));
    this.#attached = attachDcpTarget(this.target, server);
    this.core.packages.baseUrl = () => {
      if (this.config.publicUrl) return this.config.publicUrl;
      const addr = server.address() as AddressInfo | null;
      const host = !addr || addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
      return `http://${host.includes(':') ? `[${host}]` : host}:${addr?.port ?? this.config.port}/`;
    };
    await this.core.recover();
    this.readiness.add('dcp', () => {
      if (!this.#attached) throw new Error('DCP target not attached');
    });
  }

  /**
   * Before Nest closes the http server: that close waits for every open connection, and the DCP
   * peers' socket.io connections only end when the target closes them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.core.stop();
    await this.core.submitResult.idle();
    await this.core.ctx.escrow.close();
    await this.target.close();
    await this.#attached?.close();
    await this.core.ctx.store.journal.close();
  }
}

/** `GET /etc/dcp-config.kvin`: KVIN v9 for dcp-client 5.x (`?ver=2.1.0`), v8 for 4.x (`?ver=2.0.0`). */
@Controller()
export class DcpConfigController {
  constructor(
    @Inject(DCP_TARGET) private readonly target: DcpTarget,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    @Inject(IDENTITY) private readonly identity: Identity,
  ) {}

  /**
   * The scheduler's identity: the guardian clients authorize (allow entries) and the address the
   * bank trusts for escrow; the commission on public jobs is paid to this address.
   */
  @Get('api/identity')
  whoami(): { address: string } {
    return { address: this.identity.address };
  }

  @Get('etc/dcp-config.kvin')
  get(@Req() req: Request, @Res() res: Response, @Query('ver') ver?: string): void {
    const generation = ver?.startsWith('2.0') ? 4 : 5;
    const requestBase = new URL(`${req.protocol}://${req.headers.host ?? `127.0.0.1:${this.config.port}`}/`);
    const { scheduler: base, bank: bankBase } = publicBases(requestBase, {
      ...(this.config.publicBaseUrl ? { publicUrl: this.config.publicBaseUrl } : {}),
      ...(this.config.publicBankUrl ? { publicBankUrl: this.config.publicBankUrl } : {}),
      ...(this.config.bankUrl ? { bankUrl: this.config.bankUrl } : {}),
    });
    const locations = this.target.locations(base, generation);
    const bankTeller = new URL(generation === 4 ? 'v4/bank-teller/' : 'bank-teller/', bankBase);
    res
      .status(200)
      .type('application/x-kvin')
      .set('access-control-allow-origin', '*')
      .send(
        encodeConfig(
          dcpClientConfig(base, locations, bankTeller, generation, this.config.tuning.workerPollSeconds),
          generation,
        ),
      );
  }
}

/** Module sources for workers (`fetchModuleURL` hands out these URLs). */
@Controller('modules')
export class ModulesController {
  constructor(@Inject(SCHEDULER_CORE) private readonly core: SchedulerCore) {}

  @Get(':name/:module')
  async get(
    @Param('name') name: string,
    @Param('module') module: string,
    @Res() res: Response,
  ): Promise<void> {
    const source = await this.core.packages.source(name, module);
    if (source === undefined) {
      res.status(404).type('text/plain').send(`no module ${name}/${module}`);
      return;
    }
    res.status(200).type('text/plain').set('access-control-allow-origin', '*').send(source);
  }
}

@Module({})
export class DcpModule {
  static forRoot(config: SchedulerConfig, overrides: { clock?: Clock; bank?: BankPort } = {}): DynamicModule {
    return {
      module: DcpModule,
      controllers: [
        DcpConfigController,
        InspectController,
        ModulesController,
        JnuController,
        WebClientController,
        FaultsController,
        MetricsController,
      ],
      providers: [
        { provide: SCHEDULER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: overrides.clock ?? systemClock },
        { provide: FAULT_PLAN, inject: [CLOCK], useFactory: (clock: Clock) => new FaultPlan(clock) },
        { provide: IDENTITY, useFactory: () => loadOrCreateIdentity(config.identityFile) },
        {
          provide: DCP_TARGET,
          inject: [IDENTITY],
          useFactory: (identity: Identity) =>
            new DcpTarget({
              identity,
              logger: createLogger('scheduler-dcp', config.logLevel),
              // the last ack per session survives a kill: after a restart a resuming dcp-client is made
              // to retransmit its unacked message before the close (else 5.6.1 rejects it and crashes)
              ackJournal: fileAckJournal(join(config.dataDir, 'dcp-acks.log')),
            }),
        },
        {
          provide: SCHEDULER_CONTEXT,
          inject: [DATABASE, IDENTITY, CLOCK, FAULT_PLAN],
          useFactory: async (
            db: Database,
            identity: Identity,
            clock: Clock,
            faults: FaultPlan,
          ): Promise<SchedulerContext> => {
            const logger = createLogger('scheduler', config.logLevel);
            const state = await openSchedulerState({
              prisma: db.prisma,
              location: db.location,
              logger,
              leases: config.tuning,
            });
            const store = state.store;
            const events = new EventRouter(store, clock, cryptoRandom, logger);
            events.brakeAt(config.tuning.maxEventBacklog);
            const realBank =
              overrides.bank ??
              (config.escrow.enabled && config.bankUrl
                ? new DcpBank(config.bankUrl, identity, createLogger('scheduler-bank', config.logLevel))
                : undefined);
            // a `bankDown` fault makes it fail as if unreachable (faults/)
            const bank = realBank && faultyBank(realBank, faults);
            const escrow: JobMoney = bank
              ? new Escrow({
                  bank,
                  store: new EscrowStore(db.prisma, store.owed),
                  events,
                  clock,
                  identity,
                  logger,
                  terms: config.escrow,
                  job: (id) => store.getJob(id),
                })
              : new NoEscrow();
            return {
              ...state,
              events,
              clock,
              random: cryptoRandom,
              escrow,
              identity,
              logger,
              tuning: config.tuning,
            };
          },
        },
        {
          provide: SCHEDULER_CORE,
          inject: [SCHEDULER_CONTEXT],
          useFactory: (ctx: SchedulerContext) => new SchedulerCore(ctx),
        },
        DcpServer,
      ],
      exports: [SCHEDULER_CORE, DCP_TARGET],
    };
  }
}
