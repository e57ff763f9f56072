import { Body, Controller, type DynamicModule, Get, Inject, Module, Param, Post, Req } from '@nestjs/common';
import { DcpError, DcpErrorCode, Identity } from '@dcp-emu/protocol';
import { type RunningService, startService } from '../bootstrap';
import { type AuthRequest, RestAuth, RestAuthModule } from './rest-auth';

// For rest.spec.ts (kept out of the spec so its decorators compile with the package's settings).

export const owner = Identity.random();
export const TOKEN = 'spec-admin-token';

/** A tiny service with one owned thing, as the scheduler's and bank's controllers use RestAuth. */
@Controller('api')
export class ThingsController {
  counter = 0;
  constructor(@Inject(RestAuth) private readonly auth: RestAuth) {}

  @Post('things/:id/bump')
  bump(@Req() req: AuthRequest, @Param('id') id: string, @Body() _body: unknown) {
    this.auth.requireOwner(req, [owner.address.toLowerCase()], `thing ${id}`);
    this.counter++;
    return { counter: this.counter };
  }

  @Post('admin')
  admin(@Req() req: AuthRequest) {
    this.auth.requireAdmin(req, 'the admin route');
    return { ok: true };
  }

  @Get('things/:id')
  read(@Req() req: AuthRequest, @Param('id') id: string) {
    this.auth.requireReader(req, [owner.address], `thing ${id}`);
    return { counter: this.counter };
  }

  @Get('fail/:kind')
  fail(@Param('kind') kind: string) {
    if (kind === 'dcp') throw new DcpError(DcpErrorCode.ENOENT, 'no such thing');
    if (kind === 'internal') throw new Error('secret detail');
    return {};
  }
}

@Module({})
class ThingsModule {
  static forRoot(host: string): DynamicModule {
    return {
      module: ThingsModule,
      imports: [RestAuthModule.forRoot({ host, adminToken: TOKEN })],
      controllers: [ThingsController],
    };
  }
}

/** The things service on `host`, a free port; `dataDir` is made private once it runs. */
export async function serveThings(
  host: string,
  dataDir?: string,
): Promise<{ svc: RunningService; ctl: ThingsController }> {
  const svc = await startService(ThingsModule.forRoot(host), {
    name: 'spec',
    host,
    port: 0,
    logLevel: 'silent',
    dataDir,
  });
  return { svc, ctl: svc.app.get(ThingsController) };
}
