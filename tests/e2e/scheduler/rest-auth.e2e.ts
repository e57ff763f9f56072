import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, readKeystoreFile, signRequest } from '@dcp-emu/protocol/node';
import {
  cleanup,
  DCP_CLIENT,
  peerHome,
  type Proc,
  runClient,
  startOurWorker,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The scheduler's REST doors (README "Security model"): every mutating route refuses callers without
 * the admin token or the owner's signature (401/403, one error shape) and changes nothing; the
 * token and the owner's signed request work; bodies over the limit are 413; circular results render.
 */

const ADMIN = 'rest-auth-e2e-admin-token';

// a job no worker takes (no worker is connected while it runs), then one whose result is circular
const jobScript = `require(${JSON.stringify(DCP_CLIENT[5])}).init().then(async () => {
  const compute = require('dcp/compute');
  const kind = process.argv[2];
  const job = kind === 'circular'
    ? compute.for([1], (x) => { progress(1); const o = { x }; o.self = o; o.list = [o]; return o; })
    : compute.for([1, 2, 3], (x) => { progress(1); return x; });
  job.on('accepted', () => console.log('OUT ' + JSON.stringify({ accepted: job.id })));
  job.on('cancel', (e) => console.log('OUT ' + JSON.stringify({ cancelEvent: (e && e.reason) || 'cancelled' })));
  try {
    await job.exec(compute.marketRate);
    console.log('OUT ' + JSON.stringify({ done: true }));
  } catch (e) {
    console.log('OUT ' + JSON.stringify({ failed: e && e.code }));
  }
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.message)); process.exit(2); });
`;

type ErrorBody = { error: { code: string; message: string } };

describe('scheduler REST authentication (real scheduler, unmodified dcp-client 5.6.1, our worker)', () => {
  let scheduler: Proc & { url: string };
  let client: Proc | undefined;
  let worker: Proc | undefined;
  let dataDir: string;
  let workerDir: string;
  let home: string;
  let owner: Identity;
  const stranger = Identity.random();
  let jobId = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sched-rest-auth-'));
    workerDir = mkdtempSync(join(tmpdir(), 'sched-rest-auth-worker-'));
    scheduler = await startScheduler(dataDir, { DCP_EMU_ADMIN_TOKEN: ADMIN });
    home = peerHome('dcp-emu-rest-auth-client-');
    owner = readKeystoreFile(join(home, '.dcp', 'id.keystore'));
  }, 120_000);

  afterAll(async () => {
    await client?.stop('SIGKILL');
    await worker?.stop('SIGKILL');
    await scheduler?.stop();
    cleanup(dataDir, workerDir, home);
  });

  /** A request to the scheduler; `as` signs it with a key, `token` sends a bearer token. */
  async function call(
    method: string,
    path: string,
    o: { body?: unknown; token?: string; as?: Identity; signPath?: string; raw?: string } = {},
  ): Promise<{ status: number; json: unknown }> {
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.as) Object.assign(headers, signRequest(o.as, { method, path: o.signPath ?? path, body }));
    const res = await fetch(new URL(path.slice(1), scheduler.url), {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, json: await res.json().catch(() => undefined) };
  }

  const jobStatus = async (id: string) =>
    ((await call('GET', `/api/jobs/${id}`)).json as { status: string }).status;
  const groupKeys = async () =>
    ((await call('GET', '/api/compute-groups')).json as { groups: { joinKey: string; owner: string }[] })
      .groups;

  it('cancel: 401 without or with wrong credentials, 403 for another key, the job keeps running; the owner cancels it', async () => {
    client = runClient(
      home,
      writePeerFile(home, 'job.cjs', jobScript),
      { DCP_SCHEDULER_LOCATION: scheduler.url },
      ['plain'],
    );
    jobId = (await client.waitFor(/"accepted":"([^"]+)"/, 120_000))[1] as string;
    expect(await jobStatus(jobId)).toBe('running');
    const path = `/api/jobs/${jobId}/cancel`;
    const body = { reason: 'test' };

    const refusals: [string, Awaited<ReturnType<typeof call>>, number, string][] = [
      ['no credentials', await call('POST', path, { body }), 401, 'EPERM'],
      ['wrong token', await call('POST', path, { body, token: 'nope' }), 401, 'EPERM'],
      [
        'signed for another path',
        await call('POST', path, { body, as: owner, signPath: '/api/schedmsg' }),
        401,
        'EBADSIG',
      ],
      ['another key', await call('POST', path, { body, as: stranger }), 403, 'EPERM'],
    ];
    // a signature over another body does not cover this one
    const tampered = signRequest(owner, { method: 'POST', path, body: '{"reason":"x"}' });
    const res = await fetch(new URL(path.slice(1), scheduler.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...tampered },
      body: JSON.stringify(body),
    });
    refusals.push([
      'signed over another body',
      { status: res.status, json: await res.json() },
      401,
      'EBADSIG',
    ]);
    for (const [what, r, status, code] of refusals) {
      expect({ what, status: r.status }).toEqual({ what, status });
      expect((r.json as ErrorBody).error.code).toBe(code);
      expect((r.json as ErrorBody).error.message).toEqual(expect.any(String));
    }
    expect(await jobStatus(jobId)).toBe('running');

    // the owner's signed request; the same request again is a replay (401 EDUP)
    const headers = signRequest(owner, { method: 'POST', path, body: JSON.stringify(body) });
    const send = () =>
      fetch(new URL(path.slice(1), scheduler.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const ok = await send();
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ cancelled: true });
    const replay = await send();
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as ErrorBody).error.code).toBe('EDUP');
    expect(await jobStatus(jobId)).toBe('cancelled');
    await client.waitFor(/"failed"|"cancelEvent"/, 60_000);
  }, 240_000);

  it('compute groups: a signer creates and deletes its own groups only; unauthenticated and foreign changes are refused', async () => {
    const group = { joinKey: 'mine', joinSecret: 's', name: 'Mine', commissionRate: '0' };
    expect((await call('POST', '/api/compute-groups', { body: group })).status).toBe(401);
    expect((await call('POST', '/api/compute-groups', { body: group, token: 'x' })).status).toBe(401);
    const foreign = await call('POST', '/api/compute-groups', {
      body: { ...group, owner: stranger.address },
      as: owner,
    });
    expect(foreign.status).toBe(403);
    expect((foreign.json as ErrorBody).error.code).toBe('EPERM');
    expect(await groupKeys()).toEqual([]);

    const made = await call('POST', '/api/compute-groups', { body: group, as: owner });
    expect(made.status).toBe(201);
    expect((made.json as { group: { owner: string } }).group.owner.toLowerCase()).toBe(
      owner.address.toLowerCase(),
    );
    const admins = await call('POST', '/api/compute-groups', {
      body: { ...group, joinKey: 'admins', owner: stranger.address },
      token: ADMIN,
    });
    expect(admins.status).toBe(201);

    expect((await call('DELETE', '/api/compute-groups/mine')).status).toBe(401);
    const notHis = await call('DELETE', '/api/compute-groups/mine', { as: stranger });
    expect(notHis.status).toBe(403);
    expect((await call('DELETE', '/api/compute-groups/admins', { as: owner })).status).toBe(403);
    expect((await groupKeys()).map((g) => g.joinKey).sort()).toEqual(['admins', 'mine']);

    expect((await call('DELETE', '/api/compute-groups/mine', { as: owner })).status).toBe(200);
    expect((await call('DELETE', '/api/compute-groups/admins', { as: stranger })).status).toBe(200);
    expect(await groupKeys()).toEqual([]);
    // removing a job from a group: without credentials 401 before anything is looked up
    expect((await call('DELETE', `/api/compute-groups/mine/jobs/${jobId}`)).status).toBe(401);
  });

  it('one error shape: unknown job and route 404, invalid query 400, oversized body 413', async () => {
    const unknown = await call('GET', '/api/jobs/no-such-job');
    expect(unknown).toEqual({
      status: 404,
      json: { error: { code: 'ENOENT', message: 'no job no-such-job' } },
    });
    const route = await call('GET', '/api/no-such-route');
    expect(route.status).toBe(404);
    expect((route.json as ErrorBody).error.code).toBe('ENOENT');
    const invalid = await call('GET', '/api/jobs?limit=0');
    expect(invalid.status).toBe(400);
    expect((invalid.json as ErrorBody).error).toMatchObject({
      code: 'EINVAL',
      message: expect.stringMatching(/limit/),
    });
    const notJson = await call('POST', '/api/compute-groups', { raw: '{"joinKey":', token: ADMIN });
    expect(notJson.status).toBe(400);
    expect((notJson.json as ErrorBody).error.code).toBe('EINVAL');
    const huge = await call('POST', '/api/compute-groups', {
      raw: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
      token: ADMIN,
    });
    expect(huge.status).toBe(413);
    expect((huge.json as ErrorBody).error.code).toBe('ETOOBIG');
    expect(await groupKeys()).toEqual([]);
  });

  it('a circular result renders as JSON; schedmsg: 401/403 leave the worker running, the admin token stops it', async () => {
    worker = await startOurWorker(scheduler.url, workerDir, { cores: 1 });
    const circular = runClient(
      home,
      writePeerFile(home, 'job.cjs', jobScript),
      { DCP_SCHEDULER_LOCATION: scheduler.url },
      ['circular'],
    );
    const id = (await circular.waitFor(/"accepted":"([^"]+)"/, 120_000))[1] as string;
    await circular.waitFor(/"done":true|"failed"/, 180_000);
    const results = await call('GET', `/api/jobs/${id}/results`);
    expect(results.status).toBe(200);
    const value = (results.json as { results: { value: Record<string, unknown> }[] }).results[0]?.value;
    expect(value).toEqual({ x: 1, self: '[Circular]', list: ['[Circular]'] });

    const kill = { command: 'kill', payload: {} };
    for (const [r, status] of [
      [await call('POST', '/api/schedmsg', { body: kill }), 401],
      [await call('POST', '/api/schedmsg', { body: kill, token: 'wrong' }), 401],
      [await call('POST', '/api/schedmsg', { body: kill, as: owner }), 403],
    ] as const) {
      expect(r.status).toBe(status);
      expect((r.json as ErrorBody).error.code).toBe('EPERM');
    }
    // nothing was delivered: an announcement (harmless) reaches the worker, which is still connected
    const announce = await call('POST', '/api/schedmsg', {
      body: { command: 'announce', payload: { message: 'hi' } },
      token: ADMIN,
    });
    expect(announce.status).toBe(201);
    expect((announce.json as { delivered: number }).delivered).toBeGreaterThanOrEqual(1);
    await worker.waitFor(/Announcement: hi/, 60_000);
    expect(worker.running).toBe(true);
    expect(worker.out).not.toMatch(/asked this worker to stop/);

    const killed = await call('POST', '/api/schedmsg', { body: kill, token: ADMIN });
    expect(killed.status).toBe(201);
    expect((killed.json as { delivered: number }).delivered).toBeGreaterThanOrEqual(1);
    await worker.waitFor(/asked this worker to stop/, 60_000);
  }, 420_000);
});

describe('scheduler beyond loopback: job reads are private', () => {
  let scheduler: Proc & { url: string };
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sched-rest-private-'));
    scheduler = await startScheduler(dataDir, { DCP_EMU_ADMIN_TOKEN: ADMIN, DCP_EMU_HOST: '0.0.0.0' });
  }, 120_000);

  afterAll(async () => {
    await scheduler?.stop();
    cleanup(dataDir);
  });

  it('lists jobs only with credentials: the admin all, a signer its own', async () => {
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(new URL(path.slice(1), scheduler.url), { headers, signal: AbortSignal.timeout(30_000) });
    const anonymous = await get('/api/jobs');
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorBody).error.code).toBe('EPERM');
    expect((await get('/api/jobs/some-job/results')).status).toBe(401);
    expect((await get('/api/jobs', { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
    const someone = Identity.random();
    const signed = await get('/api/jobs', signRequest(someone, { method: 'GET', path: '/api/jobs' }));
    expect(signed.status).toBe(200);
    expect(await signed.json()).toEqual({ jobs: [], total: 0 });
    // health and the compute-group registry (no secrets) stay open
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/api/compute-groups')).status).toBe(200);
  });
});
