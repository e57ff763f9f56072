import { Body, Controller, Delete, Get, Inject, Param, Post, Req } from '@nestjs/common';
import { type AuthRequest, invalidRequest, RestAuth, restError } from '@dcp-emu/nest-kit';
import { DcpErrorCode } from '@dcp-emu/protocol/node';
import { FAULT_PLAN, type FaultPlan, faultSpecSchema } from './fault-plan';

/**
 * Fault injection over REST: `POST /admin/faults` adds one (body: a fault spec, see fault-plan.ts),
 * `GET /admin/faults` lists them, `DELETE /admin/faults` clears all, `DELETE /admin/faults/:id` one;
 * all with the admin token. `GET /api/faults` is the same list, read-only and open (like the workers).
 */
@Controller()
export class FaultsController {
  constructor(
    @Inject(FAULT_PLAN) private readonly faults: FaultPlan,
    @Inject(RestAuth) private readonly auth: RestAuth,
  ) {}

  @Get('api/faults')
  list() {
    return { faults: this.faults.list() };
  }

  @Get('admin/faults')
  adminList(@Req() req: AuthRequest) {
    this.auth.requireAdmin(req, 'fault injection');
    return { faults: this.faults.list() };
  }

  @Post('admin/faults')
  add(@Req() req: AuthRequest, @Body() body: unknown) {
    this.auth.requireAdmin(req, 'fault injection');
    const parsed = faultSpecSchema.safeParse(body);
    if (!parsed.success) throw invalidRequest('fault', parsed.error.issues);
    return { fault: this.faults.add(parsed.data) };
  }

  @Delete('admin/faults')
  clear(@Req() req: AuthRequest) {
    this.auth.requireAdmin(req, 'fault injection');
    return { cleared: this.faults.clear() };
  }

  @Delete('admin/faults/:id')
  remove(@Req() req: AuthRequest, @Param('id') id: string) {
    this.auth.requireAdmin(req, 'fault injection');
    if (!this.faults.remove(id)) throw restError(404, DcpErrorCode.ENOENT, `no fault ${id}`);
    return { cleared: 1 };
  }
}
