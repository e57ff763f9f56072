import { describe, expect, it } from 'vitest';
import {
  type Clock,
  DcpSession,
  FramedLink,
  type Generation,
  Identity,
  seal,
  silentLogger,
  VirtualClock,
} from './node';
import { waitFor } from './test-support/harness';
import { socketPair } from './test-support/memory';

interface Pair {
  initiator: DcpSession;
  target: DcpSession;
  targetLink: FramedLink;
  initiatorLink: FramedLink;
}

/** An initiator and a target session over in-memory sockets (no socket.io). */
async function pair(
  options: { targetClock?: Clock; generation?: Generation; maxBatch?: number } = {},
): Promise<Pair> {
  const [si, st] = socketPair();
  const initiatorLink = new FramedLink(si);
  const targetLink = new FramedLink(st);
  const initiator = new DcpSession({
    role: 'initiator',
    identity: Identity.random(),
    logger: silentLogger,
    maxBatch: options.maxBatch,
  });
  const target = new DcpSession({
    role: 'target',
    identity: Identity.random(),
    logger: silentLogger,
    clock: options.targetClock,
    generation: options.generation,
  });
  initiatorLink.on('message', (m) => initiator.receive(m, undefined, initiatorLink));
  initiatorLink.on('close', () => initiator.detach(initiatorLink));
  targetLink.on('message', (m) => target.receive(m, undefined, targetLink));
  targetLink.on('close', () => target.detach(targetLink));
  target.attach(targetLink);
  initiator.attach(initiatorLink);
  target.on('request', (req) => req.respond({ echo: req.data, op: req.operation }));
  await initiator.startConnect();
  await target.ready;
  return { initiator, target, targetLink, initiatorLink };
}

describe('DcpSession state machine (in memory)', () => {
  it('negotiates a dcpsid that starts with the initiator sid, and exchanges requests both ways', async () => {
    const { initiator, target } = await pair();
    expect(initiator.dcpsid).toBe(target.dcpsid);
    expect(initiator.dcpsid).toHaveLength(42);
    expect(initiator.peerAddress).toBe(target.identity.address);
    expect(target.peerAddress).toBe(initiator.identity.address);
    expect(await initiator.request('op', [1])).toEqual({ echo: [1], op: 'op' });
    initiator.on('request', (req) => req.respond('from initiator'));
    expect(await target.request('event', {})).toBe('from initiator');
  });

  it("the initiator adopts the target's clock from response times", async () => {
    const skew = 3 * 3600 * 1000;
    const { initiator } = await pair({ targetClock: new VirtualClock({ offsetMs: skew }) });
    expect(Math.abs(initiator.currentTime() - (Date.now() + skew) / 1000)).toBeLessThan(2);
    // our validity times follow the target clock, so the request is not "from the past"
    expect(await initiator.request('op', 'skewed')).toMatchObject({ echo: 'skewed' });
  });

  it('batches at most maxBatch (20) messages and answers every request', async () => {
    const { initiator, target } = await pair({ maxBatch: 20 });
    const before = target.stats.rxMessages;
    const answers = await Promise.all(Array.from({ length: 45 }, (_, i) => initiator.request('op', i)));
    expect(answers.map((a) => (a as { echo: number }).echo)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    const received = target.stats.rxMessages - before;
    expect(received).toBeGreaterThanOrEqual(3);
    expect(received).toBeLessThanOrEqual(6);
    expect(target.stats.rxBatches).toBeGreaterThanOrEqual(2);
  });

  it('acks a duplicate message again without handling it twice', async () => {
    const { initiator, initiatorLink, target, targetLink } = await pair();
    let handled = 0;
    target.on('request', () => handled++);
    const socket = initiatorLink.socket as { send: (f: string) => unknown };
    const frames: string[] = [];
    const send = socket.send.bind(socket);
    socket.send = (f: string) => {
      frames.push(f);
      return send(f);
    };
    await initiator.request('op', 'once');
    expect(handled).toBe(1);
    const request = frames.find((f) => f.includes('"operation":"op"'))!;
    const targetSent = (targetLink.socket as unknown as { sent: string[] }).sent;
    const acks = () => targetSent.filter((f) => f.includes('"type":"ack"')).length;
    const before = acks();
    send(request);
    await waitFor(() => acks() === before + 1, 2000, 're-ack');
    // the very same sealed ack as before
    expect(targetSent.at(-1)).toBe(targetSent.filter((f) => f.includes('"type":"ack"')).at(-2));
    expect(handled).toBe(1);
    expect(await initiator.request('op', 'next')).toMatchObject({ echo: 'next' });
    expect(handled).toBe(2);
  });

  it('never sends notifications to a 4.x peer; delivers them to 5.x peers', async () => {
    const four = await pair({ generation: 4 });
    await expect(four.target.notify({ a: 1 })).rejects.toMatchObject({ code: 'ENOTSUP' });
    const five = await pair({ generation: 5 });
    const got: unknown[] = [];
    five.initiator.on('notification', (n) => got.push(n.data));
    await five.target.notify({ a: 1 });
    await waitFor(() => got.length === 1, 2000, 'notification');
    expect(got).toEqual([{ a: 1 }]);
  });

  it('shuts the session on a nonce mismatch', async () => {
    const { initiator, target, initiatorLink } = await pair();
    await initiator.request('op', 1);
    const errors: string[] = [];
    target.on('protocolError', (e) => errors.push(e.message));
    initiatorLink.socket.send(
      seal(initiator.identity, {
        id: 'bogus-1',
        type: 'request',
        payload: { operation: 'op', data: 1, allow: [], validity: { stamp: 'x', time: Date.now() / 1000 } },
        auth: {},
        dcpsid: target.dcpsid,
        time: Date.now() / 1000,
        ackToken: 'AT-bogus',
        nonce: 'NN-wrong',
      }),
    );
    await target.whenClosed;
    expect(target.closeError?.message).toMatch(/nonce mismatch/);
    expect(errors[0]).toMatch(/nonce mismatch/);
  });

  it('closes gracefully: close request, goodbye, both sides closed', async () => {
    const { initiator, target } = await pair();
    const pending = target.request('slow').catch((e: unknown) => e);
    await initiator.close();
    await target.whenClosed;
    expect(initiator.state).toBe('closed');
    expect(target.closeError?.code).toBe('ECONNRESET');
    expect(await pending).toMatchObject({ code: expect.any(String) });
    await expect(initiator.request('op', 1)).rejects.toMatchObject({ code: 'EPIPE' });
  });
});
