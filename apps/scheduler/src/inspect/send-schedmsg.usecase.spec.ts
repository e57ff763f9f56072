import { schedMsgRequest } from '@dcp-emu/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openHarness, type UseCaseHarness } from '../usecase-harness.test';
import { SendSchedMsg } from './send-schedmsg.usecase';

describe('SendSchedMsg: POST /api/schedmsg (real event router)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(() => h?.close());

  it('broadcasts without a target and commands one target with it; answers how many workers it reached', () => {
    const route = vi.spyOn(h.ctx.events, 'schedMsg');
    const use = new SendSchedMsg(h.ctx);
    expect(use.execute(schedMsgRequest.parse({ command: 'announce', payload: { message: 'hi' } }))).toEqual({
      delivered: 0,
    });
    expect(use.execute(schedMsgRequest.parse({ command: 'kill', target: 'w1' }))).toEqual({ delivered: 0 });
    expect(route.mock.calls).toEqual([
      ['broadcast', 'announce', { message: 'hi' }, undefined],
      ['command', 'kill', {}, 'w1'],
    ]);
    // the count is the router's
    route.mockReturnValueOnce(3);
    expect(use.execute({ command: 'reload', payload: {} })).toEqual({ delivered: 3 });
    route.mockRestore();
  });

  it('the REST contract refuses unknown commands before the use case runs', () => {
    expect(schedMsgRequest.safeParse({ command: 'format-disk' }).success).toBe(false);
    expect(schedMsgRequest.safeParse({}).success).toBe(false);
  });
});
