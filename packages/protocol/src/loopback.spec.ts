import { afterEach, describe, expect, it } from 'vitest';
import { DcpError, DcpInitiator, Identity, silentLogger } from './node';
import { startTestTarget, type TestTarget, waitFor } from './test-support/harness';

describe('our initiator ⇄ our target over socket.io (loopback)', () => {
  let t: TestTarget | undefined;
  const initiators: DcpInitiator[] = [];
  afterEach(async () => {
    for (const i of initiators.splice(0)) await i.close().catch(() => {});
    await t?.stop();
    t = undefined;
  });
  const initiator = (
    location: string,
    extra: Partial<ConstructorParameters<typeof DcpInitiator>[0]> = {},
  ) => {
    const i = new DcpInitiator({ location, identity: Identity.random(), logger: silentLogger, ...extra });
    initiators.push(i);
    return i;
  };

  it('connects and exchanges requests and responses, with DCP errors', async () => {
    t = await startTestTarget();
    const i = initiator(t.location);
    expect(await i.request('echo', { a: [1, 'two'] })).toEqual({ a: [1, 'two'] });
    expect(i.peerAddress).toBe(t.target.address);
    await expect(i.request('fail', { code: 'ENOFUNDS' })).rejects.toMatchObject({
      code: 'ENOFUNDS',
      message: 'failed with ENOFUNDS',
    });
    const crash = await i.request('crash', {}).catch((e: DcpError) => e);
    expect(crash).toBeInstanceOf(DcpError);
    expect(crash).toMatchObject({ code: 'EINTERNAL', message: 'internal error' });
    await expect(i.request('nope', {})).rejects.toMatchObject({ code: 'ENOTSUP' });
    await expect(i.request('fail', { code: 42 })).rejects.toMatchObject({ code: 'EINVAL' });
    await i.keepalive();
  });

  it('authorizes requests with resource keys, single and batched', async () => {
    t = await startTestTarget();
    const i = initiator(t.location);
    const account = Identity.random();
    const other = Identity.random();
    await i.connect();
    const single = (await i.request('authz', {}, { authorize: [account] })) as { authorized: string[] };
    expect(single.authorized).toEqual([account.address.toLowerCase()]);
    const batched = (await Promise.all(
      Array.from({ length: 5 }, () => i.request('authz', { x: 1 }, { authorize: [account, other] })),
    )) as { authorized: string[] }[];
    expect(i.session!.stats.txBatches).toBeGreaterThan(0);
    for (const r of batched)
      expect(r.authorized).toEqual([account.address.toLowerCase(), other.address.toLowerCase()]);
    expect(((await i.request('authz', {})) as { authorized: string[] }).authorized).toEqual([]);
  });

  it('batches 100 concurrent requests and answers all', async () => {
    t = await startTestTarget();
    const i = initiator(t.location);
    await i.connect();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, n) => i.request('echo', { n })));
    expect(answers).toEqual(Array.from({ length: 100 }, (_, n) => ({ n })));
  });

  it('server pushes a request to the client and awaits its answer', async () => {
    t = await startTestTarget();
    const i = initiator(t.location);
    i.on('request', (req) => req.respond({ got: req.operation, data: req.data }));
    expect(await i.request('push', { operation: 'event', data: { x: 1 } })).toEqual({
      generation: 5,
      answer: { got: 'event', data: { x: 1 } },
    });
  });

  it('carries a 2 MB payload whole in both directions (fragments)', async () => {
    t = await startTestTarget();
    const i = initiator(t.location);
    const blob = `${'é'.repeat(1_000_000)}${'x'.repeat(1_000_000)}end`;
    expect(await i.request('size', { blob })).toEqual({
      length: blob.length,
      head: 'éééééééé',
      tail: 'xxxxxend',
    });
    const back = (await i.request('echo', { blob })) as { blob: string };
    expect(back.blob === blob).toBe(true);
  });

  it('resumes the session after the transport is cut', async () => {
    t = await startTestTarget();
    const i = initiator(t.location);
    await i.request('echo', 1);
    const dcpsid = i.session?.dcpsid;
    const ups: number[] = [];
    i.on('linkUp', () => ups.push(1));
    i.dropTransport();
    expect(await i.request('echo', 2)).toBe(2);
    await waitFor(() => ups.length === 1, 10_000, 'link up');
    expect(i.session?.dcpsid).toBe(dcpsid);
    // the target cuts it too
    t.target.getSession(dcpsid!)!.dropLink();
    const answers = await Promise.all([i.request('echo', 3), i.request('echo', 4)]);
    expect(answers).toEqual([3, 4]);
    expect(i.session?.dcpsid).toBe(dcpsid);
  });

  it('opens a new session when the restarted target does not know the old one', async () => {
    const identity = Identity.random();
    t = await startTestTarget({ identity });
    const port = t.port;
    const i = initiator(t.location);
    await i.request('echo', 1);
    const first = i.session!;
    await t.stop();
    t = await startTestTarget({ identity, port });
    await first.whenClosed;
    expect(first.closeError?.code).toBe('ECONNRESET');
    expect(await i.request('echo', 2)).toBe(2);
    expect(i.session?.dcpsid).not.toBe(first.dcpsid);
  });
});
