import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address (0x + 40 hex digits)');

/**
 * `sendSchedMsg` (event router; dcp-util's `schedmsg`): `{target, broadcast, command, payload}`,
 * signed by the sender's identity.
 */
export const sendSchedMsgSchema = z
  .object({
    target: address.optional(),
    broadcast: z.boolean().default(false),
    command: z.enum([
      'announce',
      'openPopup',
      'kill',
      'reload',
      'restart',
      'remove',
      'addPriorityJob',
      'removePriorityJob',
    ]),
    payload: z.record(z.string(), z.unknown()).default({}),
  })
  .loose();

/**
 * Scheduler messages from an identity to workers, with DCP's rules: a broadcast (to every worker)
 * needs an identity in the scheduler's SchedMsg admins (`DCP_EMU_SCHEDMSG_ADMINS`, and the
 * scheduler's own key); anyone else may only reach the workers that run with its own identity
 * (`target` = the signer, as dcp-util's schedmsg signs with the target identity).
 */
export class SendSchedMsg {
  /** lower-case addresses allowed to broadcast; set once at start-up from the configuration */
  admins: readonly string[] = [];

  constructor(private readonly ctx: SchedulerContext) {}

  isAdmin(peer: string): boolean {
    const p = peer.toLowerCase();
    return p === this.ctx.identity.address.toLowerCase() || this.admins.some((a) => a.toLowerCase() === p);
  }

  execute(data: z.infer<typeof sendSchedMsgSchema>, peer: string): { delivered: number } {
    if (data.broadcast) {
      if (!this.isAdmin(peer))
        throw new DcpError(
          DcpErrorCode.EPERM,
          `${peer} may not broadcast scheduler messages (not one of the scheduler's SchedMsg admins)`,
        );
    } else {
      if (!data.target) throw new DcpError(DcpErrorCode.EINVAL, 'a SchedMsg needs a target or broadcast');
      if (data.target.toLowerCase() !== peer.toLowerCase() && !this.isAdmin(peer))
        throw new DcpError(
          DcpErrorCode.EPERM,
          `${peer} may only send scheduler messages to workers of its own identity, not ${data.target}`,
        );
    }
    const delivered = this.ctx.events.schedMsg(
      data.broadcast ? 'broadcast' : 'command',
      data.command,
      data.payload,
      data.broadcast ? undefined : data.target,
    );
    this.ctx.logger.info(
      { command: data.command, broadcast: data.broadcast, target: data.target, from: peer, delivered },
      'SchedMsg sent',
    );
    return { delivered };
  }
}
