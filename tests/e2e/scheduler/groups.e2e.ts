import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  ROOT,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startOurWorker,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

const jobScript = (joinSecret: string) => `require(${JSON.stringify(DCP_CLIENT[5])}).init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([1, 2, 3, 4, 5, 6], (x) => { progress(1); return x * 10; });
  job.computeGroups = [{ joinKey: 'lab', joinSecret: ${JSON.stringify(joinSecret)} }];
  job.public.name = 'lab-only';
  job.on('accepted', () => console.log('ACCEPTED ' + job.id));
  const results = await job.exec(compute.marketRate);
  console.log('RESULTS ' + JSON.stringify(Array.from(results)));
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`;

const ADMIN_TOKEN = 'groups-e2e-admin-token';

describe('private compute groups: registry over REST, unmodified dcp-client 5.6.1, our workers', () => {
  let scheduler: Proc & { url: string };
  let member: Proc;
  let outsider: Proc;
  let forger: Proc;
  let dataDir: string;
  let home: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sched-groups-'));
    scheduler = await startScheduler(dataDir, { DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN });
    home = peerHome('dcp-emu-groups-client-');
  }, 120_000);

  afterAll(async () => {
    await member?.stop('SIGKILL');
    await outsider?.stop('SIGKILL');
    await forger?.stop('SIGKILL');
    await scheduler?.stop();
    cleanup(dataDir, home, ...dirs);
  });

  // the registry's changes need the admin token (or the group owner's signature, rest-auth.e2e.ts)
  const api = (path: string, init?: RequestInit) =>
    fetch(new URL(path, scheduler.url), {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });

  it('registers groups over REST: 201 (secret returned once when generated), 400, 409, list without secrets, delete', async () => {
    const made = await api('api/compute-groups', {
      method: 'POST',
      body: JSON.stringify({ joinKey: 'lab', joinSecret: 's3cret', name: 'The lab', commissionRate: '0.05' }),
    });
    expect(made.status).toBe(201);
    const body = (await made.json()) as { group: { joinKey: string }; joinSecret?: string };
    expect(body.group.joinKey).toBe('lab');
    expect(body.joinSecret).toBeUndefined();

    const gen = await api('api/compute-groups', {
      method: 'POST',
      body: JSON.stringify({ joinKey: 'tmp', name: 'Temporary', commissionRate: '0' }),
    });
    const secret = ((await gen.json()) as { joinSecret: string }).joinSecret;
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);

    const bad = await api('api/compute-groups', { method: 'POST', body: JSON.stringify({ joinKey: 'x y' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EINVAL');
    const taken = await api('api/compute-groups', {
      method: 'POST',
      body: JSON.stringify({ joinKey: 'lab', name: 'again', commissionRate: '1' }),
    });
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { error: { code: string } }).error.code).toBe('EGROUP');

    const listed = await (await api('api/compute-groups')).text();
    expect(listed).toContain('"joinKey":"tmp"');
    expect(listed).not.toContain(secret);
    expect(listed).not.toContain('s3cret');
    expect(listed).not.toContain('joinHash');
    const anonymous = await fetch(new URL('api/compute-groups/tmp', scheduler.url), { method: 'DELETE' });
    expect(anonymous.status).toBe(401);
    expect(await (await api('api/compute-groups')).text()).toContain('"joinKey":"tmp"');
    expect((await api('api/compute-groups/tmp', { method: 'DELETE' })).status).toBe(200);
    expect((await api('api/compute-groups/tmp', { method: 'DELETE' })).status).toBe(404);
    const doc = await getJson<{ paths: Record<string, Record<string, unknown>> }>(
      `${scheduler.url}api/openapi.json`,
    );
    expect(Object.keys(doc.paths['/api/compute-groups'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/api/compute-groups/{joinKey}']?.delete).toBeDefined();
  });

  it('a job deployed into the group by dcp-client is computed only by the worker that joined it (not a public-only one, not a wrong secret)', async () => {
    const d1 = mkdtempSync(join(tmpdir(), 'wdata-'));
    const d2 = mkdtempSync(join(tmpdir(), 'wdata-'));
    const d3 = mkdtempSync(join(tmpdir(), 'wdata-'));
    dirs.push(d1, d2, d3);
    outsider = await startOurWorker(scheduler.url, d1);
    forger = await startOurWorker(scheduler.url, d3, { groups: ['lab,guess'] });
    member = await startOurWorker(scheduler.url, d2, { groups: ['lab,s3cret'] });

    const client = runClient(home, writePeerFile(home, 'lab-job.js', jobScript('s3cret')), {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
    });
    const jobId = (await client.waitFor(/ACCEPTED (\S+)/, 90_000))[1] as string;
    await client.waitFor(/RESULTS \[10,20,30,40,50,60\]/, 90_000);
    expect(await client.exited).toBe(0);

    const job = await getJson<{ groups: string[] }>(`${scheduler.url}api/jobs/${jobId}`);
    expect(job.groups).toEqual(['lab']);
    // the worker prints its completions as its results are answered: wait (bounded) for all six
    await member.waitFor(/(?:[\s\S]*?Slice Completed: lab-only slice \d){6}/, 10_000);
    expect(member.out.match(/Slice Completed: lab-only/g)?.length).toBe(6);
    expect(outsider.out).not.toMatch(/Slice (Started|Completed): lab-only/);
    expect(forger.out).not.toMatch(/Slice (Started|Completed): lab-only/);
  }, 150_000);

  it('a wrong join secret is refused with EGROUP: exec rejects, the job is in no group, so no worker gets it', async () => {
    const client = runClient(home, writePeerFile(home, 'bad-job.js', jobScript('guess')), {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
    });
    await scheduler.waitFor(/"code":"EGROUP","err":"wrong join secret for compute group lab"/, 90_000);
    const m = await client.waitFor(
      /FAILED DCPL-1100 .*Failed to add job (\S+) to any of the desired compute groups/,
      30_000,
    );
    expect(await client.exited).toBe(2);
    const job = await getJson<{ groups: string[] }>(`${scheduler.url}api/jobs/${m[1]}`);
    expect(job.groups).toEqual([]);
  }, 120_000);

  it("dcp-util's cg-utility manages groups over DCP as their owner: create, change, listJobs, delete; others get EPERM", async () => {
    const cg = join(ROOT, 'node_modules/dcp-util/bin/cg-utility');
    const env = { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1' };
    const run = async (who: string, args: string[]) => {
      const p = runClient(who, cg, env, [...args, '--json']);
      const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
      const text = p.out.slice(p.out.indexOf('{'));
      return { code, json: JSON.parse(text.slice(0, text.lastIndexOf('}') + 1)) as Record<string, unknown> };
    };
    const made = await run(home, [
      'create',
      'Bars',
      '--joinKey',
      'bars',
      '--joinSecret',
      'b4rs',
      '--commissionRate',
      '0.1',
    ]);
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({ success: true, joinKey: 'bars', name: 'Bars', commissionRate: '0.1' });
    const changed = await run(home, ['change', '--joinKey', 'bars', '--name', 'Renamed']);
    expect(changed.json).toMatchObject({ success: true, name: 'Renamed' });
    expect((await run(home, ['listJobs', '--joinKey', 'bars'])).json).toMatchObject({
      success: true,
      jobs: [],
    });

    const stranger = peerHome('dcp-emu-groups-stranger-');
    dirs.push(stranger);
    const refused = await run(stranger, ['delete', '--joinKey', 'bars']);
    expect(JSON.stringify(refused.json)).toContain('EPERM');
    const listed = await (await api('api/compute-groups')).text();
    expect(listed).toContain('"joinKey":"bars"');
    expect(listed).toContain('"name":"Renamed"');

    expect((await run(home, ['delete', '--joinKey', 'bars'])).json).toMatchObject({
      success: true,
      joinKey: 'bars',
    });
    expect(await (await api('api/compute-groups')).text()).not.toContain('"joinKey":"bars"');
  }, 180_000);
});
