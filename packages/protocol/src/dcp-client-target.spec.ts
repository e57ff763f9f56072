import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DcpError, DcpInitiator, Identity, silentLogger } from './node';
import { waitFor } from './test-support/harness';
import { DcpClientPeer, freePort } from './test-support/peer';

/** Acceptance 2: our initiator against dcp-client's own reference Target (5.6.1 and 4.4.x). */
describe.each([5, 4] as const)('our initiator → dcp-client %s.x Target', (generation) => {
  let peer: DcpClientPeer;
  let location: string;
  let initiator: DcpInitiator;
  const identity = Identity.random();

  beforeAll(async () => {
    location = `http://127.0.0.1:${await freePort()}/svc/`;
    peer = await DcpClientPeer.start(generation, 'target', location);
    initiator = new DcpInitiator({ location, identity, pathStyle: generation, logger: silentLogger });
    initiator.on('request', (req) => req.respond({ pushed: req.operation, data: req.data }));
  });
  afterAll(async () => {
    await initiator?.close().catch(() => {});
    await peer?.stop();
  });

  it('connects and exchanges requests, responses and errors', async () => {
    expect(await initiator.request('echo', { a: ['b', 2] })).toEqual({ a: ['b', 2] });
    expect(initiator.peerAddress?.toLowerCase()).toBe(peer.identity.address.toLowerCase());
    const session = await peer.waitFor((m) => m.event === 'session');
    expect(String(session.peer).toLowerCase()).toBe(identity.address.toLowerCase());
    const err = await initiator.request('fail', { code: 'ENOFUNDS' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DcpError);
    expect(err).toMatchObject({ code: 'ENOFUNDS', message: 'failed with ENOFUNDS' });
  });

  it('answers requests the target pushes, and pushes back from inside a push', async () => {
    const res = await peer.call<{ success: boolean; payload: unknown }>({
      cmd: 'push',
      op: 'event',
      data: { x: 1 },
    });
    expect(res).toMatchObject({ success: true, payload: { pushed: 'event', data: { x: 1 } } });
  });

  it('batches 100 concurrent requests and completes all', async () => {
    const session = initiator.session!;
    const before = { ...session.stats };
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => initiator.request('echo', { i })));
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
    expect(session.stats.txBatches).toBeGreaterThan(before.txBatches);
    expect(session.stats.txMessages - before.txMessages).toBeLessThan(50);
  });

  it('sends and receives a 2 MB payload whole (fragments)', async () => {
    const blob = `${'ß'.repeat(1_000_000)}${'q'.repeat(1_000_000)}`;
    const back = (await initiator.request('echo', { blob })) as { blob: string };
    expect(back.blob.length).toBe(blob.length);
    expect(back.blob === blob).toBe(true);
  });

  it('keepalive', async () => {
    await expect(initiator.keepalive()).resolves.toBeUndefined();
  });

  it('resumes after we cut the transport, and after the target cuts it', async () => {
    const dcpsid = initiator.session!.dcpsid;
    let ups = 0;
    initiator.on('linkUp', () => ups++);
    initiator.dropTransport();
    expect(await initiator.request('echo', 'after our cut')).toBe('after our cut');
    await waitFor(() => ups === 1, 10_000, 'link up');
    await peer.call({ cmd: 'drop' });
    await waitFor(() => ups === 2, 20_000, 'second link up');
    expect(await initiator.request('echo', 'after their cut')).toBe('after their cut');
    expect(initiator.session!.dcpsid).toBe(dcpsid);
  });

  // dcp-client 4.4.29's reference Target crashes ("connection end event fired on same tick as
  // constructor", DCPC-1027) whenever an initiator resumes an unknown dcpsid, so this case only runs
  // against 5.6.1; 4.x initiators against our own target cover the restart in the other suite.
  it.runIf(generation === 5)('opens a new session after the target restarts', async () => {
    const first = initiator.session!;
    await peer.stop(false);
    peer = await DcpClientPeer.start(generation, 'target', location, {}, peer);
    await first.whenClosed;
    expect(first.closeError?.code).toBe('ECONNRESET');
    expect(await initiator.request('echo', 'fresh')).toBe('fresh');
    expect(initiator.session!.dcpsid).not.toBe(first.dcpsid);
  });
});
