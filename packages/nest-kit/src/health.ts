import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Injectable,
  Module,
  Res,
  type DynamicModule,
} from '@nestjs/common';
import type { Response } from 'express';

export type ReadinessCheck = () => Promise<void> | void;

/** Parts of a service register what must work before it is ready (DB reachable, identity loaded, …). */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }
  async run(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const [name, check] of this.checks) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (e) {
        ok = false;
        checks[name] = (e as Error).message || 'failed';
      }
    }
    return { ok, checks };
  }
}

export const SERVICE_INFO = Symbol('SERVICE_INFO');
export interface ServiceInfo {
  name: string;
  version: string;
}

/** `GET /healthz` (alive) and `GET /readyz` (200 when every readiness check passes, else 503). */
@Controller()
export class HealthController {
  private readonly started = Date.now();
  constructor(
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
  ) {}

  @Get('healthz')
  health() {
    return {
      status: 'ok',
      service: this.info.name,
      version: this.info.version,
      uptimeMs: Date.now() - this.started,
    };
  }

  @Get('readyz')
  async ready(@Res() res: Response) {
    const { ok, checks } = await this.readiness.run();
    res
      .status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json({ status: ok ? 'ready' : 'not ready', checks });
  }
}

@Module({})
export class HealthModule {
  static forRoot(info: ServiceInfo): DynamicModule {
    return {
      module: HealthModule,
      global: true,
      controllers: [HealthController],
      providers: [Readiness, { provide: SERVICE_INFO, useValue: info }],
      exports: [Readiness],
    };
  }
}
