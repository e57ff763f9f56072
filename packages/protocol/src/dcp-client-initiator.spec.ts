import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity, VirtualClock } from './node';
import type { DcpSession } from './session';
import { startTestTarget, type TestTarget, waitFor } from './test-support/harness';
import { DcpClientPeer } from './test-support/peer';

interface PeerResponse {
  success: boolean;
  payload: Record<string, unknown>;
  time: number;
}

/** Acceptance 1: dcp-client 5.6.1's and 4.4.x's own initiators against our target. */
describe.each([5, 4] as const)('dcp-client %s.x initiator → our target', (generation) => {
  const identity = Identity.random();
  let t: TestTarget;
  let peer: DcpClientPeer;
  const sessions: DcpSession[] = [];
  const locationOf = (tt: TestTarget) => (generation === 5 ? tt.location : `${tt.base}/v4/echo/`);

  let rxFragments = 0;
  let txFragments = 0;
  const countFragments = (direction: 'rx' | 'tx', frame: string) => {
    if (frame.startsWith('E') && frame[5] === 'C') {
      if (direction === 'rx') rxFragments++;
      else txFragments++;
    }
  };

  beforeAll(async () => {
    t = await startTestTarget({ identity, frame: { wireLog: countFragments } });
    t.target.on('session', (s) => sessions.push(s));
    peer = await DcpClientPeer.start(generation, 'initiator', locationOf(t));
  });
  afterAll(async () => {
    await peer?.stop();
    await t?.stop();
  });

  it('connects and exchanges requests, responses and DCP errors', async () => {
    const ok = await peer.call<PeerResponse>({ cmd: 'request', op: 'echo', data: { hello: ['wörld', 1] } });
    expect(ok).toMatchObject({ success: true, payload: { hello: ['wörld', 1] } });
    expect(Math.abs(ok.time - Date.now() / 1000)).toBeLessThan(60);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.peerAddress?.toLowerCase()).toBe(peer.identity.address.toLowerCase());
    expect(sessions[0]!.generation).toBe(generation);

    const failed = await peer.call<PeerResponse>({ cmd: 'request', op: 'fail', data: { code: 'ENOFUNDS' } });
    expect(failed.success).toBe(false);
    expect(failed.payload).toMatchObject({ code: 'ENOFUNDS', message: 'failed with ENOFUNDS' });
    expect(String(failed.payload.origin).toLowerCase()).toBe(identity.address.toLowerCase());

    const unknown = await peer.call<PeerResponse>({ cmd: 'request', op: 'noSuchOperation', data: {} });
    expect(unknown).toMatchObject({ success: false, payload: { code: 'ENOTSUP' } });
    const invalid = await peer.call<PeerResponse>({ cmd: 'request', op: 'fail', data: { code: 7 } });
    expect(invalid).toMatchObject({ success: false, payload: { code: 'EINVAL' } });
  });

  it("verifies dcp-client's allow/auth authorization over the raw payload", async () => {
    const session = sessions[sessions.length - 1]!;
    for (let k = 0; k < 3; k++) {
      const res = await peer.call<{ account: string; responses: PeerResponse[] }>({
        cmd: 'authz',
        op: 'authz',
        data: { amount: k },
      });
      expect(res.account.toLowerCase()).toBe(peer.account!.address.toLowerCase());
      expect(res.responses[0]!.payload).toEqual({
        peer: session.peerAddress,
        authorized: [peer.account!.address.toLowerCase()],
      });
    }
    // dcp-client sends authorized requests that it batches with unresolved allow placeholders
    // ('peerAddress', 'identity.address') and an empty auth: they must not verify.
    const burst = await peer.call<{ responses: PeerResponse[] }>({
      cmd: 'authz',
      op: 'authz',
      data: {},
      n: 5,
    });
    for (const r of burst.responses)
      expect([[], [peer.account!.address.toLowerCase()]]).toContainEqual(r.payload.authorized);
    // a plain request authorizes nothing
    const plain = await peer.call<PeerResponse>({ cmd: 'request', op: 'authz', data: {} });
    expect(plain.payload.authorized).toEqual([]);
  });

  it('answers requests the target pushes to it', async () => {
    const res = await peer.call<PeerResponse>({
      cmd: 'request',
      op: 'push',
      data: { operation: 'event', data: { jobId: 'j1', n: 3 } },
    });
    expect(res).toMatchObject({
      success: true,
      payload: { generation, answer: { pushed: 'event', data: { jobId: 'j1', n: 3 } } },
    });
  });

  it('notifications: 5.x peers exchange them; 4.x peers never get one', async () => {
    const session = sessions[sessions.length - 1]!;
    if (generation === 4) {
      await expect(session.notify({ hello: 4 })).rejects.toMatchObject({ code: 'ENOTSUP' });
      expect(await peer.call<PeerResponse>({ cmd: 'keepalive' })).toMatchObject({ success: true });
      return;
    }
    const got: unknown[] = [];
    t.target.on('notification', (n, info) => got.push({ data: n.data, service: info.service }));
    await peer.call({ cmd: 'notify', data: { from: 'client' } });
    await waitFor(() => got.length === 1, 10_000, 'notification at the target');
    expect(got).toEqual([{ data: { from: 'client' }, service: 'echo' }]);
    const mark = peer.mark;
    await session.notify({ from: 'target' });
    const n = await peer.waitFor((m) => m.event === 'notification', 10_000, mark);
    expect(n.data).toEqual({ from: 'target' });
  });

  it('batches 100 concurrent requests and completes all', async () => {
    const session = sessions[sessions.length - 1]!;
    const before = { ...session.stats };
    const all = await peer.call<unknown[]>({ cmd: 'burst', op: 'echo', n: 100 });
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
    // both sides batched: far fewer DcpMessages than requests
    expect(session.stats.rxBatches).toBeGreaterThan(before.rxBatches);
    expect(session.stats.rxMessages - before.rxMessages).toBeLessThan(50);
    expect(session.stats.txBatches).toBeGreaterThan(before.txBatches);
  });

  it('delivers a 2 MB payload whole (fragments)', async () => {
    const blob = `${'ü'.repeat(1_000_000)}${'z'.repeat(1_000_000)}`;
    const [rx0, tx0] = [rxFragments, txFragments];
    const res = await peer.call<PeerResponse>({ cmd: 'request', op: 'size', data: { blob } }, 40_000);
    expect(res.payload).toEqual({ length: 2_000_000, head: 'üüüüüüüü', tail: 'zzzzzzzz' });
    // dcp-client split it to our announced 3e5-character fragments
    expect(rxFragments - rx0).toBeGreaterThanOrEqual(7);
    const back = await peer.call<PeerResponse>({ cmd: 'request', op: 'echo', data: { blob } }, 40_000);
    expect((back.payload as { blob: string }).blob === blob).toBe(true);
    // and we split the echo to dcp-client's announced size
    expect(txFragments - tx0).toBeGreaterThanOrEqual(7);
  });

  it('answers keepalive', async () => {
    expect(await peer.call<PeerResponse>({ cmd: 'keepalive' })).toMatchObject({
      success: true,
      payload: { success: true },
    });
  });

  it('resumes the same session after the transport is cut', async () => {
    const before = await peer.call<{ dcpsid: string }>({ cmd: 'state' });
    const session = t.target.getSession(before.dcpsid)!;
    expect(session).toBeDefined();
    const mark = peer.mark;
    session.dropLink('test cut');
    await peer.waitFor((m) => m.event === 'disconnect', 10_000, mark);
    const res = await peer.call<PeerResponse>({ cmd: 'request', op: 'echo', data: 'after cut' }, 40_000);
    expect(res).toMatchObject({ success: true, payload: 'after cut' });
    expect((await peer.call<{ dcpsid: string }>({ cmd: 'state' })).dcpsid).toBe(before.dcpsid);
    expect(t.target.getSession(before.dcpsid)).toBe(session);
    expect(session.link).not.toBeNull();
  });

  it('after a target restart the initiator is told to close and a new session works', async () => {
    const before = await peer.call<{ dcpsid: string }>({ cmd: 'state' });
    const port = t.port;
    const mark = peer.mark;
    await t.stop();
    t = await startTestTarget({ identity, port });
    const ended = await peer.waitFor((m) => m.event === 'close', 40_000, mark);
    expect(ended.code).toBe('ECONNRESET');
    await peer.call({ cmd: 'renew' });
    const res = await peer.call<PeerResponse>({ cmd: 'request', op: 'echo', data: 'new session' }, 40_000);
    expect(res).toMatchObject({ success: true, payload: 'new session' });
    const after = await peer.call<{ dcpsid: string }>({ cmd: 'state' });
    expect(after.dcpsid).not.toBe(before.dcpsid);
    await waitFor(() => t.target.getSession(after.dcpsid) !== undefined, 5_000, 'new session on target');
  });
});

/** The initiator adopts the target's clock from response `time`, so a skewed target still validates. */
describe.each([5, 4] as const)(
  'dcp-client %s.x initiator → our target with a clock 2 h ahead',
  (generation) => {
    it('requests pass validity checks against the skewed clock', async () => {
      const skewMs = 2 * 3600 * 1000;
      const t = await startTestTarget({ clock: new VirtualClock({ offsetMs: skewMs }) });
      const refusals: string[] = [];
      t.target.on('protocolError', (e) => refusals.push(e.code));
      const peer = await DcpClientPeer.start(
        generation,
        'initiator',
        generation === 5 ? t.location : `${t.base}/v4/echo/`,
      );
      try {
        for (let k = 0; k < 3; k++) {
          const res = await peer.call<PeerResponse>({ cmd: 'request', op: 'echo', data: k });
          expect(res).toMatchObject({ success: true, payload: k });
          expect(Math.abs(res.time - (Date.now() + skewMs) / 1000)).toBeLessThan(60);
        }
        expect(refusals).toEqual([]);
      } finally {
        await peer.stop();
        await t.stop();
      }
    });
  },
);
