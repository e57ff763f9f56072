import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DcpError, DcpInitiator, Identity, seal, silentLogger } from './node';
import { startTestTarget, type TestTarget, waitFor } from './test-support/harness';
import type { FramedLink } from './transport/frames';

/** Acceptance 3: hostile or broken input is refused with the right error; nothing else is affected. */
describe('refusing bad input (our target, real sockets)', () => {
  let t: TestTarget;
  const refused: DcpError[] = [];
  let bystander: DcpInitiator;
  let bystanderDrops = 0;
  const initiators: DcpInitiator[] = [];
  const sockets: Socket[] = [];

  const initiator = () => {
    const i = new DcpInitiator({ location: t.location, identity: Identity.random(), logger: silentLogger });
    initiators.push(i);
    return i;
  };

  /** a bare socket.io connection to the 5.x echo path */
  const rawSocket = async (): Promise<Socket> => {
    const s = io(t.base, {
      path: '/echo/dcp5/socketio',
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  };
  const disconnected = (s: Socket) =>
    new Promise<void>((resolve) => (s.connected ? s.once('disconnect', () => resolve()) : resolve()));

  beforeAll(async () => {
    t = await startTestTarget({ frame: { maxMessageSize: 500_000 }, firstMessageTimeoutMs: 1_000 });
    t.target.on('protocolError', (e) => refused.push(e));
    bystander = initiator();
    bystander.on('linkDown', () => bystanderDrops++);
    await bystander.request('echo', 'hello');
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const i of initiators) await i.close().catch(() => {});
    await t.stop();
  });

  /** after each case: the server and an unrelated session carry on untouched */
  const bystanderUnaffected = async () => {
    expect(await bystander.request('echo', { still: 'fine' })).toEqual({ still: 'fine' });
    expect(bystanderDrops).toBe(0);
  };

  /** inject a raw frame on an established initiator's socket */
  const inject = (i: DcpInitiator, frame: string) => (i.session!.link as FramedLink).socket.send(frame);

  it('forged signature: EBADSIG, the transport is dropped, the session resumes', async () => {
    const i = initiator();
    await i.request('echo', 1);
    const dcpsid = i.session!.dcpsid;
    const mark = refused.length;
    const genuine = seal(i.identity, { id: 'x-1', type: 'request', payload: { operation: 'echo', data: 1 } });
    inject(i, genuine.replace('"data":1', '"data":2'));
    await waitFor(() => refused.length > mark, 5_000, 'refusal');
    expect(refused[mark]).toMatchObject({ code: 'EBADSIG', message: 'message has invalid signature' });
    expect(await i.request('echo', 'after forgery')).toBe('after forgery');
    expect(i.session!.dcpsid).toBe(dcpsid);
    await bystanderUnaffected();
  });

  it('changed owner: EBADSIG, the transport is dropped, the session resumes', async () => {
    const i = initiator();
    await i.request('echo', 1);
    const dcpsid = i.session!.dcpsid;
    const mark = refused.length;
    const intruder = Identity.random();
    inject(
      i,
      seal(intruder, { id: 'x-2', type: 'request', dcpsid, payload: { operation: 'echo', data: 1 } }),
    );
    await waitFor(() => refused.length > mark, 5_000, 'refusal');
    expect(refused[mark]!.code).toBe('EBADSIG');
    expect(refused[mark]!.message).toMatch(/owner changed/);
    expect(await i.request('echo', 'after intruder')).toBe('after intruder');
    expect(i.session!.dcpsid).toBe(dcpsid);
    await bystanderUnaffected();
  });

  it('resuming somebody else’s session with another key is refused', async () => {
    const victim = initiator();
    await victim.request('echo', 1);
    const dcpsid = victim.session!.dcpsid!;
    const s = await rawSocket();
    const mark = refused.length;
    s.send(seal(Identity.random(), { type: 'ack', dcpsid, token: 'AT-x', nonce: 'NN-x' }));
    await disconnected(s);
    expect(refused[mark]!.code).toBe('EBADSIG');
    expect(await victim.request('echo', 'victim fine')).toBe('victim fine');
    expect(victim.session!.dcpsid).toBe(dcpsid);
  });

  it('replayed validity stamp: EDUP error response, the session carries on', async () => {
    const i = initiator();
    expect(await i.request('echo', 'first', { validity: { stamp: 'replayedStampReplayed' } })).toBe('first');
    await expect(
      i.request('echo', 'again', { validity: { stamp: 'replayedStampReplayed' } }),
    ).rejects.toMatchObject({ code: 'EDUP' });
    // another session replaying the same stamp is refused too (one cache per target)
    const other = initiator();
    await expect(
      other.request('echo', 'elsewhere', { validity: { stamp: 'replayedStampReplayed' } }),
    ).rejects.toMatchObject({ code: 'EDUP' });
    expect(await i.request('echo', 'next')).toBe('next');
    await bystanderUnaffected();
  });

  it('expired and future messages: EEXPIRED and ETIMETRAVEL error responses', async () => {
    const i = initiator();
    await i.connect();
    const now = Date.now() / 1000;
    await expect(
      i.request('echo', 'old', { validity: { time: now - 1300, ttl: 120 } }),
    ).rejects.toMatchObject({
      code: 'EEXPIRED',
    });
    // ttl is clamped to 600 s: a huge ttl does not keep an old message alive
    await expect(
      i.request('echo', 'old', { validity: { time: now - 1300, ttl: 1e6 } }),
    ).rejects.toMatchObject({
      code: 'EEXPIRED',
    });
    // within ttl + slop it is still fine
    expect(await i.request('echo', 'late', { validity: { time: now - 700, ttl: 120 } })).toBe('late');
    await expect(i.request('echo', 'future', { validity: { time: now + 700 } })).rejects.toMatchObject({
      code: 'ETIMETRAVEL',
    });
    expect(await i.request('echo', 'normal')).toBe('normal');
    await bystanderUnaffected();
  });

  it('malformed JSON: EINVAL; as a first message the socket is closed, mid-session the transport resumes', async () => {
    const s = await rawSocket();
    let mark = refused.length;
    s.send('{"owner": not json');
    await disconnected(s);
    expect(refused[mark]).toMatchObject({ code: 'EINVAL', message: 'malformed message: not JSON' });

    const i = initiator();
    await i.request('echo', 1);
    mark = refused.length;
    inject(i, '{"truncated":');
    await waitFor(() => refused.length > mark, 5_000, 'refusal');
    expect(refused[mark]!.code).toBe('EINVAL');
    expect(await i.request('echo', 'after garbage')).toBe('after garbage');

    const s2 = await rawSocket();
    mark = refused.length;
    s2.send('Xunknown frame type');
    await disconnected(s2);
    expect(refused[mark]!.code).toBe('EINVAL');
    await bystanderUnaffected();
  });

  it('oversized message or fragments: ETOOBIG and the socket is closed', async () => {
    const s = await rawSocket();
    let mark = refused.length;
    s.send(`{"owner":"0x0","body":{"pad":"${'x'.repeat(600_000)}"}}`);
    await disconnected(s);
    expect(refused[mark]!.code).toBe('ETOOBIG');

    const s2 = await rawSocket();
    mark = refused.length;
    const header = (seq: number) => JSON.stringify({ msgId: 1, seq, total: 3 });
    for (let seq = 0; seq < 3; seq++) {
      const h = header(seq);
      s2.send(`E${h.length.toString(16).padStart(4, '0')}C${h}${'y'.repeat(200_000)}`);
    }
    await disconnected(s2);
    expect(refused[mark]!.code).toBe('ETOOBIG');
    await bystanderUnaffected();
  });

  it('a socket that never speaks DCP is closed after the first-message timeout', async () => {
    const s = await rawSocket();
    const mark = refused.length;
    await disconnected(s);
    expect(refused[mark]).toMatchObject({ code: 'EINVAL', message: 'no DCP message received' });
    await bystanderUnaffected();
  });

  it('a request before the session exists ends that connection only', async () => {
    const s = await rawSocket();
    const mark = refused.length;
    s.send(
      seal(Identity.random(), {
        id: 'x',
        type: 'request',
        payload: { operation: 'echo', data: 1 },
        nonce: null,
      }),
    );
    await disconnected(s);
    expect(refused[mark]!.code).toBe('EINVAL');
    await bystanderUnaffected();
  });
});
