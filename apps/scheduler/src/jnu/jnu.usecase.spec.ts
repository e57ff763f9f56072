import { systemClock } from '@dcp-emu/protocol/node';
import { type Database, openDatabase } from '@dcp-emu/db';
import { cryptoRandom, DcpError, Identity, kvinFor, seal, silentLogger } from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import type { SchedulerContext } from '../context';
import { SchedulerCore } from '../core';
import { NoEscrow } from '../escrow/escrow';
import { EventRouter } from '../events/event-router';
import { openSchedulerState } from '../state/open-state';
import type { JnuMethod } from './jnu.usecase';

const owner = Identity.random();
const stranger = Identity.random();
const account = '0x3333333333333333333333333333333333333333';
const base = 'http://127.0.0.1:7430/jnu/';

describe('jnu: the signed-POST database API (getJobInfo, managed workers)', () => {
  let tdb: TestDatabase;
  let db: Database;
  let core: SchedulerCore;
  const now = Date.parse('2026-03-01T00:00:00Z');

  beforeAll(async () => {
    tdb = await freshDatabase('sqlite');
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    const state = await openSchedulerState({
      prisma: db.prisma,
      location: db.location,
      logger: silentLogger,
      leases: defaultTuning,
    });
    const clock = { ...systemClock, now: () => now };
    const ctx: SchedulerContext = {
      ...state,
      events: new EventRouter(state.store, clock, cryptoRandom, silentLogger),
      clock,
      random: cryptoRandom,
      escrow: new NoEscrow(),
      identity: Identity.random(),
      logger: silentLogger,
      tuning: defaultTuning,
    };
    core = new SchedulerCore(ctx);
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,x%3D%3Ex',
        job: 'jnu-job',
        dataRange: { start: 1, end: 3 },
      },
      owner.address,
      5,
      true,
    );
  });
  afterAll(async () => {
    core?.stop();
    await db?.close();
    await tdb?.drop();
  });

  /** what dcp-client's jnu.makeQuery + submitSignedPost send */
  const request = (
    method: JnuMethod,
    query: unknown,
    who = owner,
    options: Record<string, unknown> = { variant: method },
    expiry = now / 1000 + 3600,
  ) =>
    core.jnu.execute(
      method,
      seal(who, { expiry, endpoint: `${base}${method}`, queryKVINv9: kvinFor(5).marshal(query), options }),
    );
  const rows = async (res: Promise<Record<string, unknown>>) => {
    const header = kvinFor(5).unmarshal((await res).resultsHeaderKVIN) as {
      rowCount: number;
      firstRow?: Record<string, unknown>;
      remainingRows: Record<string, unknown>[];
    };
    return header.rowCount ? [header.firstRow, ...header.remainingRows] : [];
  };

  it('serves a schema whose column types are shared objects, as dcp-client checks', async () => {
    const { schemaKVIN } = await core.jnu.execute(
      'schema',
      seal(owner, {
        expiry: now / 1000 + 60,
        endpoint: `${base}schema`,
        queryKVINv9: kvinFor(5).marshal({}),
      }),
    );
    // read as dcp-client's jnu KVIN does: ColumnType is a known constructor there
    const Kvin = (kvinFor(5) as unknown as { constructor: new () => ReturnType<typeof kvinFor> }).constructor;
    const reader = new Kvin();
    reader.userCtors = { ColumnType: function ColumnType() {} };
    const schema = reader.unmarshal(schemaKVIN) as {
      tables: Record<string, Record<string, unknown>>;
      columnTypes: Record<string, unknown>;
    };
    expect(schema.tables.jobs?.id).toBe(schema.columnTypes.autoId);
    expect(schema.tables.jobResults?.id).toBe(schema.tables.jobs?.id);
    expect(Object.keys(schema.tables)).toEqual(
      expect.arrayContaining(['jobs', 'w$workerConfigValue', 'w$workerRunInfo', 'w$workerTaskInfo']),
    );
  });

  it("getJobInfo: the signer's own job by opaqueId; nobody else's", async () => {
    const [row] = await rows(request('select', { table: 'jobs', prototype: { opaqueId: 'jnu-job' } }));
    expect(row).toMatchObject({
      opaqueId: 'jnu-job',
      status: 'running',
      totalSlices: 3,
      owner: owner.address,
    });
    expect(
      await rows(request('select', { table: 'jobs', prototype: { opaqueId: 'jnu-job' } }, stranger)),
    ).toEqual([]);
    expect(await rows(request('select', { table: 'jobs', prototype: { opaqueId: 'nope' } }))).toEqual([]);
  });

  it('managed workers: no remote configuration; run and task info kept per signer and worker', async () => {
    const config = { table: 'w$workerConfigValue', prototype: { workerOpaqueId: { in: [null, 'w1'] } } };
    expect(await rows(request('select', config))).toEqual([]);
    const runInfo = { table: 'w$workerRunInfo', prototype: { workerOpaqueId: 'w1', status: 'running' } };
    expect((await request('change', runInfo, owner, { variant: 'changeOrAdd' })).result).toBe(1);
    // earnings arrive as a counter
    const earn = { table: 'w$workerRunInfo', prototype: { workerOpaqueId: 'w1', earnings: { add: 0.25 } } };
    await request('change', earn, owner, { variant: 'changeOrAdd' });
    await request('change', earn, owner, { variant: 'changeOrAdd' });
    const [info] = await rows(
      request('select', { table: 'w$workerRunInfo', prototype: { workerOpaqueId: 'w1' } }),
    );
    expect(info).toMatchObject({ workerOpaqueId: 'w1', status: 'running', earnings: '0.5' });
    // another signer sees none of it
    expect(
      await rows(
        request('select', { table: 'w$workerRunInfo', prototype: { workerOpaqueId: 'w1' } }, stranger),
      ),
    ).toEqual([]);
    for (const serial of [1, 2, 1])
      await request(
        'change',
        {
          table: 'w$workerTaskInfo',
          prototype: {
            workerOpaqueId: 'w1',
            serial,
            taskTime: now + serial * 1000 + (serial === 1 ? 5000 : 0),
          },
        },
        owner,
        { variant: 'changeOrAdd' },
      );
    const newest = await rows(
      request('select', {
        table: 'w$workerTaskInfo',
        prototype: { workerOpaqueId: 'w1' },
        limit: 1,
        order: [{ taskTime: 'desc' }],
      }),
    );
    expect(newest).toEqual([expect.objectContaining({ serial: 1 })]);
  });

  it('refuses forged, expired, misdirected and write requests to read-only tables', async () => {
    const body = { expiry: now / 1000 + 60, endpoint: `${base}select`, queryKVINv9: kvinFor(5).marshal({}) };
    const forged = JSON.parse(seal(owner, body)) as { body: Record<string, unknown> };
    forged.body.expiry = now / 1000 + 7200;
    await expect(core.jnu.execute('select', JSON.stringify(forged))).rejects.toMatchObject({
      code: 'EBADSIG',
    });
    await expect(
      request('select', { table: 'jobs', prototype: { opaqueId: 'jnu-job' } }, owner, {}, now / 1000 - 1),
    ).rejects.toMatchObject({ code: 'EEXPIRED' });
    await expect(
      core.jnu.execute(
        'change',
        seal(owner, { ...body, queryKVINv9: kvinFor(5).marshal({ table: 'jobs', prototype: {} }) }),
      ),
    ).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(
      request('change', { table: 'jobs', prototype: { opaqueId: 'jnu-job', status: 'finished' } }),
    ).rejects.toMatchObject({ code: 'EPERM' });
    await expect(request('select', { table: 'users', prototype: {} })).rejects.toBeInstanceOf(DcpError);
  });
});
