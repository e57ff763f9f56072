import type { SchedulerAnswer } from '@dcp-emu/contracts';
import type { SchedulerContext } from '../context';

/** `POST /api/schedmsg`: a scheduler message to every worker, or a command to one `target`. */
export class SendSchedMsg {
  constructor(private readonly ctx: SchedulerContext) {}

  execute(msg: {
    command: string;
    payload: Record<string, unknown>;
    target?: string | undefined;
  }): SchedulerAnswer<'SchedMsgResult'> {
    const delivered = this.ctx.events.schedMsg(
      msg.target ? 'command' : 'broadcast',
      msg.command,
      msg.payload,
      msg.target,
    );
    return { delivered };
  }
}
