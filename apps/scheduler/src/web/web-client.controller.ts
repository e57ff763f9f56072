import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { DcpTarget } from '@dcp-emu/protocol/node';
import type { Request, Response } from 'express';
import type { SchedulerConfig } from '../config';
import { dcpClientConfig } from '../dcp/dcp-config';
// dcp.module registers this controller: its tokens are read when a request comes, not at import
import { DCP_TARGET, SCHEDULER_CONFIG } from '../dcp/dcp.module';
import { dcpClientDir, dcpConfigScript, webFile, webLocations } from './web-client';

/**
 * dcp-client for web pages (see web-client.ts): `/dcp-client/dcp-client.js`, its bundle and assets
 * from the installed dcp-client package, and `/etc/dcp-config.js`. Any origin may load them (pages
 * anywhere use the scheduler's dcp-client, as on DCP).
 */
@Controller()
export class WebClientController {
  readonly #dir = dcpClientDir();

  constructor(@Inject(ModuleRef) private readonly refs: ModuleRef) {}

  @Get('etc/dcp-config.js')
  configScript(@Req() req: Request, @Res() res: Response): void {
    const target = this.refs.get<DcpTarget>(DCP_TARGET, { strict: false });
    const settings = this.refs.get<SchedulerConfig>(SCHEDULER_CONFIG, { strict: false });
    const base = new URL(`${req.protocol}://${req.headers.host ?? `127.0.0.1:${settings.port}`}/`);
    const bankTeller = new URL('bank-teller/', new URL(settings.bankUrl ?? base));
    const config = dcpClientConfig(
      base,
      target.locations(base, 5),
      bankTeller,
      5,
      settings.tuning.workerPollSeconds,
    );
    res
      .status(200)
      .type('application/javascript; charset=utf-8')
      .set('access-control-allow-origin', '*')
      .set('cache-control', 'no-cache')
      .send(dcpConfigScript({ ...config, ...webLocations(base) }));
  }

  @Get(['dcp-client/*path', 'kvin/kvin.js', 'bravojs/bravo.js'])
  file(@Req() req: Request, @Res() res: Response): void {
    const rel = decodeURIComponent(req.path.replace(/^\/+/, ''));
    const found = this.#dir ? webFile(this.#dir, rel) : undefined;
    if (!found) {
      res
        .status(404)
        .type('text/plain')
        .set('access-control-allow-origin', '*')
        .send(
          this.#dir ? `no such dcp-client file: ${rel}` : 'dcp-client is not installed next to the scheduler',
        );
      return;
    }
    res
      .status(200)
      .type(found.type)
      .set('access-control-allow-origin', '*')
      .set('cache-control', 'public, max-age=300')
      .sendFile(found.file);
  }
}
