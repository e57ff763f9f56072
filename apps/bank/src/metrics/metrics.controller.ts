import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Database } from '@dcp-emu/db';
import { type AuthRequest, DATABASE, RestAuth } from '@dcp-emu/nest-kit';
import type { DcpTarget } from '@dcp-emu/protocol/node';
import type { Response } from 'express';
import { TELLER_TARGET } from '../teller/teller.module';
import { BankMetrics } from './bank-metrics';

/**
 * `GET /metrics` (Prometheus text format): open while the bank listens on loopback only; beyond
 * loopback it needs the admin token (`Authorization: Bearer …`).
 */
@Controller()
export class BankMetricsController {
  readonly #metrics: BankMetrics;

  constructor(
    @Inject(DATABASE) db: Database,
    @Inject(TELLER_TARGET) target: DcpTarget,
    @Inject(RestAuth) private readonly auth: RestAuth,
  ) {
    this.#metrics = new BankMetrics(db, target);
  }

  @Get('metrics')
  async metrics(@Req() req: AuthRequest, @Res() res: Response): Promise<void> {
    if (!this.auth.loopback) this.auth.requireAdmin(req, 'the metrics (the bank listens beyond loopback)');
    res
      .status(200)
      .type(this.#metrics.contentType)
      .send(await this.#metrics.render());
  }
}
