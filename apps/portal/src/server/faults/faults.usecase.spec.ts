import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DcpErrorCode } from '@dcp-emu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as signUp } from '../../app/api/auth/signup/route';
import { GET as faultsRoute } from '../../app/api/faults/route';
import { isTopic, topicReader } from '../live/topics';
import { getPortal, resetPortal } from '../portal';
import { type RunningService, startService } from '../services.fixture';
import { schedulerApi } from '../upstream/scheduler';
import { httpUpstream } from '../upstream/upstream';
import { describeFault, listFaults } from './faults.usecase';

/**
 * The stack's injected faults in the portal: the scheduler client (`GET /api/faults`, checked with the
 * contracts' faultList), the use case (rows, scope, other users' jobs not named), the live topic and the
 * route handler `GET /api/faults`, against a real scheduler process and a real SQLite portal database.
 */
const TOKEN = randomUUID();
let scheduler: RunningService;
let dir: string;

async function admin(method: 'POST' | 'DELETE', body?: unknown): Promise<unknown> {
  const r = await fetch(new URL('admin/faults', scheduler.url), {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.status).toBeLessThan(300);
  return r.json();
}

function request(path: string, cookie?: string): Request {
  return new Request(`http://portal.test${path}`, {
    headers: { host: 'portal.test', ...(cookie ? { cookie } : {}) },
  });
}

beforeAll(async () => {
  scheduler = await startService('scheduler', { DCP_EMU_ADMIN_TOKEN: TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-faults-'));
  process.env.DCP_EMU_DATA_DIR = dir;
  process.env.DCP_EMU_DATABASE_URL = `file:${join(dir, 'portal.sqlite')}`;
  process.env.DCP_EMU_PORTAL_PASSWORD_LOG2N = '10';
  process.env.DCP_EMU_SCHEDULER_URL = scheduler.url;
}, 120_000);

afterAll(async () => {
  await resetPortal();
  await scheduler?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('injected faults in the portal', () => {
  it("the scheduler client reads the open fault list with the spec's defaults filled in", async () => {
    // no admin token: GET /api/faults is the scheduler's read-only list
    const api = schedulerApi(httpUpstream('scheduler', new URL(scheduler.url)));
    expect(await api.faults()).toEqual({ ok: true, value: { faults: [] } });
    await admin('POST', { kind: 'crashWorker', afterSlices: 3, worker: '0xAbC' });
    await admin('POST', { kind: 'bankDown', durationMs: 60_000 });
    const listed = await api.faults();
    expect(listed).toMatchObject({
      ok: true,
      value: {
        faults: [
          {
            id: 'f1',
            kind: 'crashWorker',
            afterSlices: 3,
            how: 'kill',
            worker: '0xAbC',
            times: 1,
            probability: 1,
            fired: 0,
            spent: false,
          },
          {
            id: 'f2',
            kind: 'bankDown',
            durationMs: 60_000,
            fired: 0,
            spent: false,
            until: expect.any(String),
          },
        ],
      },
    });
    expect(await admin('DELETE')).toEqual({ cleared: 2 });
    expect(await api.faults()).toEqual({ ok: true, value: { faults: [] } });
  });

  it("lists the stack's faults as rows; a fault scoped to a job that is not the user's does not name it", async () => {
    const portal = await getPortal();
    const user = randomUUID();
    const job = `0x${'ab'.repeat(20)}`;
    await admin('POST', { kind: 'dropResult', job, times: 'always' });
    await admin('POST', { kind: 'delayTask', ms: 1500, probability: 0.5, seed: 7 });
    const rows = await listFaults(portal, user);
    expect(rows).toEqual({
      ok: true,
      value: [
        {
          id: expect.any(String),
          kind: 'dropResult',
          job: null,
          otherJob: true,
          worker: null,
          times: 'always',
          fired: 0,
          spent: false,
          createdAt: expect.any(String),
          until: null,
          detail: 'accepts a result and throws it away (slice queued again)',
        },
        {
          id: expect.any(String),
          kind: 'delayTask',
          job: null,
          otherJob: false,
          worker: null,
          times: 1,
          fired: 0,
          spent: false,
          createdAt: expect.any(String),
          until: null,
          detail: 'answers a task that hands out slices 1500 ms late; hits with probability 0.5 (seed 7)',
        },
      ],
    });
    expect(JSON.stringify(rows)).not.toContain(job);
    // the live topic reads exactly what the REST call answers
    expect(isTopic('faults')).toBe(true);
    expect(await topicReader(portal, 'faults')(user)).toEqual(rows);
    await admin('DELETE');
    expect(await listFaults(portal, user)).toEqual({ ok: true, value: [] });
  });

  it('describes every kind in words', () => {
    const base = { id: 'f1', fired: 0, spent: false, createdAt: new Date(0).toISOString() };
    const scope = { times: 1, probability: 1, seed: 1 } as const;
    expect(describeFault({ ...base, ...scope, kind: 'crashWorker', afterSlices: 1, how: 'drop' })).toBe(
      'after 1 accepted result, drops its connections',
    );
    expect(describeFault({ ...base, ...scope, kind: 'corruptResult' })).toBe(
      `replaces a result's value with "dcp-emu: corrupted result"`,
    );
    expect(describeFault({ ...base, ...scope, kind: 'refuseTask', answer: 'error' })).toBe(
      'fails task requests (EPIPE)',
    );
    expect(describeFault({ ...base, kind: 'bankDown' })).toBe(
      'the bank is unreachable (ENOBANK) until cleared',
    );
    expect(
      describeFault({ ...base, kind: 'disconnectClient', job: 'j', afterResults: 2, times: 'always' }),
    ).toBe("after 2 results, drops the job's client connections");
  });

  it('GET /api/faults: 401 without a session, the rows with one, 502 EFETCH when the scheduler is gone', async () => {
    const anonymous = await faultsRoute(request('/api/faults'));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: DcpErrorCode.ENOSESSION } });

    const made = await signUp(
      new Request('http://portal.test/api/auth/signup', {
        method: 'POST',
        headers: { host: 'portal.test', 'content-type': 'application/json' },
        body: JSON.stringify({ email: `faults-${randomUUID()}@example.test`, password: 'long password 1' }),
      }),
    );
    expect(made.status).toBe(201);
    const cookie = (made.headers.get('set-cookie') ?? '').split(';')[0] as string;

    await admin('POST', { kind: 'refuseTask', times: 2 });
    const r = await faultsRoute(request('/api/faults', cookie));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({
      faults: [
        {
          kind: 'refuseTask',
          times: 2,
          fired: 0,
          spent: false,
          detail: 'answers task requests with no work',
        },
      ],
    });
    await admin('DELETE');
    expect(await (await faultsRoute(request('/api/faults', cookie))).json()).toEqual({ faults: [] });

    await scheduler.stop();
    const down = await faultsRoute(request('/api/faults', cookie));
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ error: { code: DcpErrorCode.EFETCH } });
  });
});
