import { DcpError, Identity } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import type { SchedulerContext } from '../context';
import { SendSchedMsg, sendSchedMsgSchema } from './send-schedmsg.usecase';

/** The use case over a recording event router (what it pushes is the router's own business). */
function setup() {
  const scheduler = Identity.random();
  const pushes: unknown[][] = [];
  const ctx = {
    identity: scheduler,
    events: {
      schedMsg: (...args: unknown[]) => {
        pushes.push(args);
        return 2;
      },
    },
    logger: { info() {} },
  } as unknown as SchedulerContext;
  return { scheduler, pushes, use: new SendSchedMsg(ctx) };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof DcpError ? e.code : String(e);
  }
  return 'no error';
};

describe('sendSchedMsg', () => {
  const alice = Identity.random().address;
  const bob = Identity.random().address;
  const msg = (m: Record<string, unknown>) => sendSchedMsgSchema.parse(m);

  it('lets an identity reach the workers running with its own identity', () => {
    const { use, pushes } = setup();
    const r = use.execute(msg({ target: alice, command: 'announce', payload: { message: 'hi' } }), alice);
    expect(r).toEqual({ delivered: 2 });
    expect(pushes).toEqual([['command', 'announce', { message: 'hi' }, alice]]);
  });

  it("refuses another identity's workers and broadcasts to non-admins (EPERM)", () => {
    const { use, pushes } = setup();
    expect(code(() => use.execute(msg({ target: bob, command: 'kill' }), alice))).toBe('EPERM');
    expect(code(() => use.execute(msg({ target: alice, broadcast: true, command: 'announce' }), alice))).toBe(
      'EPERM',
    );
    expect(code(() => use.execute(msg({ command: 'announce' }), alice))).toBe('EINVAL');
    expect(pushes).toEqual([]);
  });

  it('lets the SchedMsg admins and the scheduler itself broadcast and target anyone', () => {
    const { use, pushes, scheduler } = setup();
    use.admins = [alice.toLowerCase()];
    use.execute(
      msg({ target: alice, broadcast: true, command: 'announce', payload: { message: 'x' } }),
      alice,
    );
    use.execute(msg({ target: bob, command: 'restart' }), alice);
    use.execute(msg({ broadcast: true, command: 'reload' }), scheduler.address);
    expect(pushes).toEqual([
      ['broadcast', 'announce', { message: 'x' }, undefined],
      ['command', 'restart', {}, bob],
      ['broadcast', 'reload', {}, undefined],
    ]);
  });

  it('accepts only SchedMsg commands and addresses', () => {
    expect(sendSchedMsgSchema.safeParse({ target: alice, command: 'format-disk' }).success).toBe(false);
    expect(sendSchedMsgSchema.safeParse({ target: 'alice', command: 'announce' }).success).toBe(false);
  });
});
