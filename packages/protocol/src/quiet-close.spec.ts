import { afterEach, describe, expect, it } from 'vitest';
import { type AckJournal, Identity, memoryAckJournal } from './node';
import { startTestTarget, type TestTarget, waitFor } from './test-support/harness';
import { DcpClientPeer, type PeerMessage } from './test-support/peer';

/**
 * dcp-client 5.6.1 rejects the responses still in its queue when a close arrives, and its event
 * subscriber answers without catching that rejection: the process dies. Our target closes only once
 * the initiator has fallen quiet with nothing of ours unacked.
 */
describe('target-initiated close waits for dcp-client 5.6.1 to drain its queue', () => {
  let t: TestTarget | undefined;
  let peer: DcpClientPeer | undefined;
  afterEach(async () => {
    await peer?.stop();
    await t?.stop();
    peer = undefined;
    t = undefined;
  });

  const rejections = (p: DcpClientPeer): PeerMessage[] =>
    p.messages.filter((m) => m.event === 'unhandledRejection' || m.event === 'fatal');

  it('session.close() right after pushing requests: every answer arrives, no rejection', async () => {
    t = await startTestTarget();
    peer = await DcpClientPeer.start(5, 'initiator', t.location);
    const { dcpsid } = await peer
      .call<{ dcpsid: string }>({ cmd: 'request', op: 'echo', data: 1 })
      .then(() => peer!.call<{ dcpsid: string }>({ cmd: 'state' }));
    const session = t.target.getSession(dcpsid)!;
    expect(session).toBeDefined();
    const mark = peer.mark;
    const answers = Array.from({ length: 10 }, (_, i) => session.request('bare', i));
    await session.close();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 10 }, (_, i) => ({ bare: i })));
    const ended = await peer.waitFor((m) => m.event === 'close', 10_000, mark);
    expect(ended.code).toBe('ECONNRESET');
    // give a late rejection the chance to surface before asserting there was none
    expect(await peer.call<{ state: string }>({ cmd: 'state' })).toMatchObject({ state: 'closed' });
    expect(rejections(peer)).toEqual([]);
  }, 60_000);

  it('a restarted target closes a resumed unknown session only after the answer queued on resume', async () => {
    const identity = Identity.random();
    t = await startTestTarget({ identity });
    peer = await DcpClientPeer.start(5, 'initiator', t.location);
    await peer.call({ cmd: 'request', op: 'echo', data: 1 });
    const { dcpsid } = await peer.call<{ dcpsid: string }>({ cmd: 'state' });
    const session = t.target.getSession(dcpsid)!;
    const mark = peer.mark;
    // answered 100 ms after the peer reconnects to the restarted target, i.e. after it resumed
    session.request('bare', { afterConnectMs: 100 }).catch(() => {});
    await peer.waitFor((m) => m.event === 'pushed', 10_000, mark);
    const port = t.port;
    await t.stop();
    t = await startTestTarget({ identity, port, closeQuietMs: 500 });
    const ended = await peer.waitFor((m) => m.event === 'close', 40_000, mark);
    expect(ended.code).toBe('ECONNRESET');
    expect(peer.messages.slice(mark).some((m) => m.event === 'connect')).toBe(true);
    await peer.call({ cmd: 'renew' });
    expect(await peer.call({ cmd: 'request', op: 'echo', data: 'again' }, 40_000)).toMatchObject({
      success: true,
      payload: 'again',
    });
    await waitFor(() => t!.target.sessions().length === 1, 5_000, 'new session');
    expect(rejections(peer)).toEqual([]);
  }, 90_000);

  it('a response still on deck when the target died is retransmitted (ack journal), then the close', async () => {
    const identity = Identity.random();
    const journal = memoryAckJournal();
    // the harness stop() aborts sessions like a process exit would, but an exit would not forget them
    let exited = false;
    const durable: AckJournal = {
      record: (d, t) => journal.record(d, t),
      last: (d) => journal.last(d),
      forget: (d) => {
        if (!exited) journal.forget(d);
      },
    };
    t = await startTestTarget({ identity, ackJournal: durable });
    peer = await DcpClientPeer.start(5, 'initiator', t.location);
    await peer.call({ cmd: 'request', op: 'echo', data: 1 });
    const { dcpsid } = await peer.call<{ dcpsid: string }>({ cmd: 'state' });
    expect(journal.last(dcpsid)).toBeDefined();
    const session = t.target.getSession(dcpsid)!;
    const mark = peer.mark;
    session.request('bare', { delayMs: 200 }).catch(() => {});
    await peer.waitFor((m) => m.event === 'pushed', 10_000, mark);
    const port = t.port;
    exited = true;
    await t.stop();
    // answered while disconnected: the response is signed and on deck, never sent
    await peer.waitFor((m) => m.event === 'answered', 10_000, mark);
    exited = false;
    t = await startTestTarget({ identity, port, ackJournal: durable });
    const ended = await peer.waitFor((m) => m.event === 'close', 40_000, mark);
    expect(ended.code).toBe('ECONNRESET');
    await peer.call({ cmd: 'renew' });
    expect(await peer.call({ cmd: 'request', op: 'echo', data: 'again' }, 40_000)).toMatchObject({
      success: true,
      payload: 'again',
    });
    expect(rejections(peer)).toEqual([]);
    expect(journal.last(dcpsid)).toBeUndefined();
  }, 90_000);
});
