import 'reflect-metadata';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { migrate, openDriver, readMigrations, type SqlDriver } from '@dcp-emu/db';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StateParticipant, StateModule } from '.';

const PARTICIPANT = Symbol('PARTICIPANT');

class Recorder implements StateParticipant {
  readonly calls: string[] = [];
  stop() {
    this.calls.push('stop');
  }
  async recover() {
    this.calls.push('recover');
  }
}

let dir: string;
let live: SqlDriver;
let app: INestApplication;
const recorder = new Recorder();

async function start(token: string | undefined) {
  const ref = await Test.createTestingModule({
    providers: [{ provide: PARTICIPANT, useValue: recorder }],
    imports: [
      StateModule.forRoot({
        url: `file:${join(dir, 'db.sqlite')}`,
        dataDir: dir,
        participant: PARTICIPANT,
        ...(token !== undefined ? { token } : {}),
      }),
    ],
  }).compile();
  app = ref.createNestApplication({ logger: false });
  await app.init();
  return app;
}

const count = async () =>
  Number((await live.query<{ n: number }>('SELECT count(*) AS n FROM bank_accounts'))[0]?.n);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcp-emu-state-mod-'));
  live = await openDriver({ provider: 'sqlite', target: join(dir, 'db.sqlite') });
  await migrate(live, readMigrations('sqlite'));
  recorder.calls.length = 0;
});
afterEach(async () => {
  await app?.close();
  await live.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('StateModule (admin/state routes)', () => {
  it('without an admin token there are no routes', async () => {
    const saved = process.env.DCP_EMU_ADMIN_TOKEN;
    delete process.env.DCP_EMU_ADMIN_TOKEN;
    try {
      await start(undefined);
    } finally {
      if (saved !== undefined) process.env.DCP_EMU_ADMIN_TOKEN = saved;
    }
    await request(app.getHttpServer()).get('/admin/state').expect(404);
  });

  it('refuses a wrong token', async () => {
    await start('s3cret');
    await request(app.getHttpServer()).get('/admin/state').set('authorization', 'Bearer nope').expect(401);
    await request(app.getHttpServer()).post('/admin/state/clear').expect(401);
  });

  it('saves, restores (stopping and recovering the participant) and clears', async () => {
    await start('s3cret');
    const http = () => request(app.getHttpServer());
    const auth = { authorization: 'Bearer s3cret' };
    const info = await http().get('/admin/state').set(auth).expect(200);
    expect(info.body).toMatchObject({ provider: 'sqlite', snapshots: true });
    expect(info.body.database).toMatch(/^[0-9a-f]{16}$/);

    await live.query(`INSERT INTO bank_accounts (id, kind, balance) VALUES ('0xa', 'user', 1)`);
    const saved = await http().post('/admin/state/save').set(auth).send({ name: 'one' }).expect(200);
    expect(saved.body.file).toBe(join(dir, 'snapshots', 'one', 'db.sqlite'));
    expect(existsSync(saved.body.file)).toBe(true);

    await live.query(`INSERT INTO bank_accounts (id, kind, balance) VALUES ('0xb', 'user', 2)`);
    expect(await count()).toBe(2);
    await http().post('/admin/state/restore').set(auth).send({ name: 'one' }).expect(200);
    expect(await count()).toBe(1);
    expect(recorder.calls).toEqual(['stop', 'recover']);

    await http().post('/admin/state/clear').set(auth).expect(200);
    expect(await count()).toBe(0);
    expect(recorder.calls).toEqual(['stop', 'recover', 'stop', 'recover']);
  });

  it('answers 404 for an unknown snapshot and 404 for a bad name, recovering the participant', async () => {
    await start('s3cret');
    const auth = { authorization: 'Bearer s3cret' };
    const res = await request(app.getHttpServer())
      .post('/admin/state/restore')
      .set(auth)
      .send({ name: 'missing' })
      .expect(404);
    expect(res.body.error.code).toBe('ENOSNAPSHOT');
    expect(recorder.calls).toEqual(['stop', 'recover']);
    await request(app.getHttpServer())
      .post('/admin/state/save')
      .set(auth)
      .send({ name: '../etc' })
      .expect(404);
  });
});
