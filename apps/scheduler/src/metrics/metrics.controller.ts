import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { type AuthRequest, RestAuth } from '@dcp-emu/nest-kit';
import type { Response } from 'express';
import { SCHEDULER_CORE, type SchedulerCore } from '../core';
import { SchedulerMetrics } from './scheduler-metrics';

/**
 * `GET /metrics` (Prometheus text format): open while the scheduler listens on loopback only;
 * beyond loopback it needs the admin token (`Authorization: Bearer …`, Prometheus'
 * `authorization.credentials`).
 */
@Controller()
export class MetricsController {
  readonly #metrics: SchedulerMetrics;

  constructor(
    @Inject(SCHEDULER_CORE) core: SchedulerCore,
    @Inject(RestAuth) private readonly auth: RestAuth,
  ) {
    this.#metrics = new SchedulerMetrics(core);
  }

  @Get('metrics')
  async metrics(@Req() req: AuthRequest, @Res() res: Response): Promise<void> {
    if (!this.auth.loopback)
      this.auth.requireAdmin(req, 'the metrics (the scheduler listens beyond loopback)');
    res
      .status(200)
      .type(this.#metrics.contentType)
      .send(await this.#metrics.render());
  }
}
