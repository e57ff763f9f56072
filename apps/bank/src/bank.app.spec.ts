import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningService, startService } from '@dcp-emu/nest-kit';
import { DcpInitiator, type DcpTarget, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferMessage } from './api/signed-transfer';
import { AppModule } from './app.module';
import type { BankLedger } from './accounts/bank-ledger';
import { loadBankConfig } from './config';
import { dcc } from './ledger/amount';
import { auditLedger } from './ledger/invariants';
import { BANK_LEDGER } from './ledger.module';
import { TELLER_TARGET } from './teller/teller.module';

/** A parsed JSON response, navigated by the assertions. */
interface Json {
  readonly [key: string]: Json;
}

interface Running {
  service: RunningService;
  url: string;
  bank: BankLedger;
  dir: string;
}

async function startBank(env: Record<string, string> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'bank-app-'));
  const config = loadBankConfig({
    DCP_EMU_DATA_DIR: dir,
    DCP_EMU_BANK_PORT: '0',
    DCP_EMU_LOG_LEVEL: 'warn',
    ...env,
  });
  const service = await startService(AppModule.forRoot(config), { name: 'bank', ...config });
  return { service, url: service.listening.url, bank: service.app.get<BankLedger>(BANK_LEDGER), dir };
}

async function call(r: Running, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, r.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('bank service (Nest, SQLite): REST API', () => {
  let r: Running;
  const alice = Identity.random();
  const bob = Identity.random();

  beforeAll(async () => {
    r = await startBank();
  });
  afterAll(async () => {
    await r?.service.close();
    if (r) rmSync(r.dir, { recursive: true, force: true });
  });

  it('faucet mints, accounts show balance and history, GET /api/faucet totals', async () => {
    expect((await call(r, 'POST', '/api/faucet', { address: alice.address, amount: '100' })).status).toBe(
      201,
    );
    expect((await call(r, 'POST', '/api/faucet', { address: alice.address, amount: '0.5' })).status).toBe(
      201,
    );
    const account = await call(r, 'GET', `/api/accounts/${alice.address}`);
    expect(account).toEqual({
      status: 200,
      body: { address: alice.address.toLowerCase(), balance: '100.5', held: '0', openHolds: [] },
    });
    const page = await call(r, 'GET', `/api/accounts/${alice.address}/history?limit=1`);
    expect(page.body.entries).toHaveLength(1);
    expect(page.body.entries?.[0]?.delta).toBe('0.5');
    const older = await call(
      r,
      'GET',
      `/api/accounts/${alice.address}/history?limit=1&before=${page.body.nextBefore}`,
    );
    expect(older.body.entries?.[0]?.delta).toBe('100');
    expect((await call(r, 'GET', '/api/faucet')).body).toMatchObject({ enabled: true, totalMinted: '100.5' });
  });

  it('rejects malformed requests with {error:{code,message}} and changes nothing', async () => {
    const before = (await call(r, 'GET', '/api/faucet')).body.totalMinted;
    for (const body of [
      { address: alice.address, amount: '-1' },
      { address: alice.address, amount: '1.0000000001' },
      { address: 'nope', amount: '1' },
      { address: alice.address, amount: '1', extra: true },
      { address: alice.address, amount: '1000000' },
    ]) {
      const res = await call(r, 'POST', '/api/faucet', body);
      expect(res.status).toBe(400);
      expect(res.body.error?.code).toBe('EINVAL');
      expect(typeof res.body.error?.message).toBe('string');
    }
    expect((await call(r, 'GET', '/api/faucet')).body.totalMinted).toBe(before);
    expect(await call(r, 'GET', `/api/accounts/${Identity.random().address}`)).toMatchObject({
      status: 404,
      body: { error: { code: 'ENOACCOUNT' } },
    });
    expect((await call(r, 'GET', '/api/accounts/0x1234')).status).toBe(400);
    expect((await call(r, 'GET', `/api/accounts/${alice.address}/history?limit=0`)).status).toBe(400);
    expect((await call(r, 'GET', '/api/holds/nope')).body.error?.code).toBe('ENOENT');
    expect((await call(r, 'GET', '/api/jobs/nojob/trail')).status).toBe(404);
    const broken = await fetch(new URL('/api/faucet', r.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"address": ',
    });
    expect({ status: broken.status, body: await broken.json() }).toMatchObject({
      status: 400,
      body: { error: { code: 'EINVAL' } },
    });
    // a 60 MB body: 413 in the one error shape (was a 500), nothing minted
    const huge = await fetch(new URL('/api/faucet', r.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: alice.address, amount: '1', memo: 'x'.repeat(60 * 1024 * 1024) }),
    });
    expect({ status: huge.status, body: await huge.json() }).toMatchObject({
      status: 413,
      body: { error: { code: 'ETOOBIG', message: expect.stringMatching(/too large/) } },
    });
    expect((await call(r, 'GET', '/api/faucet')).body.totalMinted).toBe(before);
  });

  it('keeps its data dir private: the dir 0700, the SQLite files 0600', () => {
    expect(statSync(r.dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(r.dir).filter((f) => /\.sqlite(-wal|-shm)?$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      expect({ f, mode: statSync(join(r.dir, f)).mode & 0o777 }).toEqual({ f, mode: 0o600 });
  });

  it('signed transfers: moved once, replay replays, forged is 403, reused nonce is 409', async () => {
    const intent = { from: alice.address, to: bob.address, amount: '10', nonce: 'app-spec-0001' };
    const ok = await call(r, 'POST', '/api/transfers', {
      ...intent,
      signature: alice.sign(transferMessage(intent)),
    });
    expect(ok.status).toBe(201);
    expect(ok.body.replayed).toBe(false);
    const replay = await call(r, 'POST', '/api/transfers', {
      ...intent,
      signature: alice.sign(transferMessage(intent)),
    });
    expect(replay.body).toMatchObject({ replayed: true, transaction: { id: ok.body.transaction?.id } });
    const forged = { ...intent, nonce: 'app-spec-0002' };
    expect(
      await call(r, 'POST', '/api/transfers', { ...forged, signature: bob.sign(transferMessage(forged)) }),
    ).toMatchObject({ status: 403, body: { error: { code: 'EPERM' } } });
    const reused = { ...intent, amount: '11' };
    expect(
      await call(r, 'POST', '/api/transfers', { ...reused, signature: alice.sign(transferMessage(reused)) }),
    ).toMatchObject({ status: 409, body: { error: { code: 'EDUP' } } });
    const broke = { ...intent, amount: '1000', nonce: 'app-spec-0003' };
    expect(
      await call(r, 'POST', '/api/transfers', { ...broke, signature: alice.sign(transferMessage(broke)) }),
    ).toMatchObject({ status: 409, body: { error: { code: 'ENOFUNDS' } } });
    expect((await call(r, 'GET', `/api/accounts/${alice.address}`)).body.balance).toBe('90.5');
    expect((await call(r, 'GET', `/api/accounts/${bob.address}`)).body.balance).toBe('10');
  });

  it('holds and the job money trail: escrow → payment + commission → refund', async () => {
    const worker = Identity.random().address;
    const house = Identity.random().address;
    const { hold } = await r.bank.hold.execute({
      account: alice.address,
      amount: dcc('5'),
      refs: { job: 'job-trail-1' },
    });
    expect((await call(r, 'GET', `/api/accounts/${alice.address}`)).body).toMatchObject({
      balance: '85.5',
      held: '5',
      openHolds: [{ id: hold.id, remaining: '5' }],
    });
    await r.bank.capture.execute(
      hold.id,
      { to: worker, amount: dcc('2'), commission: { to: house, amount: dcc('0.2') }, slice: 1 },
      'job-trail-1:1',
    );
    await r.bank.release.execute(hold.id);
    expect((await call(r, 'GET', `/api/holds/${hold.id}`)).body).toMatchObject({
      status: 'released',
      captured: '2.2',
      released: '2.8',
    });
    const trail = await call(r, 'GET', '/api/jobs/job-trail-1/trail');
    expect(trail.body).toMatchObject({ escrowed: '5', paid: '2', commission: '0.2', refunded: '2.8' });
    expect((trail.body.steps as unknown as { kind: string }[]).map((s) => s.kind)).toEqual([
      'escrow',
      'payment',
      'refund',
    ]);
    expect(auditLedger(await r.bank.store.snapshot()).problems).toEqual([]);
  });

  it('serves an OpenAPI 3.1 document generated from the zod schemas', async () => {
    const doc = (await call(r, 'GET', '/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const ref = doc.paths?.['/api/transfers']?.post?.requestBody?.content?.['application/json']?.schema?.$ref;
    expect(ref).toBe('#/components/schemas/TransferRequest');
    const transfer = doc.components?.schemas?.TransferRequest;
    expect(transfer?.required).toEqual(
      expect.arrayContaining(['from', 'to', 'amount', 'nonce', 'signature']),
    );
    expect(transfer?.properties?.amount?.pattern).toBeDefined();
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining([
        '/api/accounts/{address}',
        '/api/faucet',
        '/api/holds/{id}',
        '/api/jobs/{job}/trail',
      ]),
    );
  });
});

describe('bank service: DCP teller (our initiator, 4.x and 5.x paths)', () => {
  let r: Running;
  const owner = Identity.random();
  const payee = Identity.random();
  const stranger = Identity.random();
  let v4: DcpInitiator;
  let v5: DcpInitiator;

  beforeAll(async () => {
    r = await startBank();
    await r.bank.mint.execute({ to: owner.address, amount: dcc('20') });
    v4 = new DcpInitiator({ location: new URL('/v4/bank-teller/', r.url), identity: owner, pathStyle: 4 });
    v5 = new DcpInitiator({ location: new URL('/bank-teller/', r.url), identity: owner });
  });
  afterAll(async () => {
    await v4?.close();
    await v5?.close();
    await r?.service.close();
    if (r) rmSync(r.dir, { recursive: true, force: true });
  });

  it('viewAccount (4.x shape) and viewAccounts, authorized by the account', async () => {
    expect(await v4.request('viewAccount', { address: owner.address }, { authorize: [owner] })).toEqual({
      address: owner.address.toLowerCase(),
      balance: '20',
      escrow: { num: 0, total: '0' },
    });
    expect(await v5.request('viewAccounts', { address: [owner.address] }, { authorize: [owner] })).toEqual({
      accounts: [{ address: owner.address.toLowerCase(), balance: '20', escrow: { num: 0, total: '0' } }],
    });
    await expect(v4.request('viewAccount', { address: owner.address })).rejects.toMatchObject({
      code: 'EPERM',
    });
  });

  it('transferCredits (number amount) and transfer@1 (string amount) move money once', async () => {
    const res = await v4.request(
      'transferCredits',
      { fromAccount: owner.address, toAccount: payee.address, signingSource: owner.address, amount: 1.5 },
      { authorize: [owner] },
    );
    expect(res).toMatchObject({ amount: '1.5', balance: '18.5' });
    await v5.request(
      'transfer@1',
      { fromAccount: owner.address, toAccount: payee.address, amount: '0.000000001' },
      { authorize: [owner] },
    );
    expect((await r.bank.balance.execute(payee.address)).balance).toBe(dcc('1.500000001'));
  });

  it('a replayed authorized transfer (same validity stamp) is EDUP and pays once', async () => {
    const before = (await r.bank.balance.execute(payee.address)).balance;
    const data = { fromAccount: owner.address, toAccount: payee.address, amount: 0.25 };
    const stamp = { validity: { stamp: 'tellerReplayStamp0001' }, authorize: [owner] };
    await v4.request('transferCredits', data, stamp);
    await expect(v4.request('transferCredits', data, stamp)).rejects.toMatchObject({ code: 'EDUP' });
    await expect(v5.request('transfer@1', { ...data, amount: '0.25' }, stamp)).rejects.toMatchObject({
      code: 'EDUP',
    });
    expect((await r.bank.balance.execute(payee.address)).balance).toBe(before + dcc('0.25'));
  });

  it('refuses forged authorization, bad amounts, unknown accounts and overdrafts; ledger unchanged', async () => {
    const before = await r.bank.store.snapshot();
    const data = { fromAccount: owner.address, toAccount: payee.address, amount: 1 };
    // authorized by someone else than the source account
    await expect(v4.request('transferCredits', data, { authorize: [stranger] })).rejects.toMatchObject({
      code: 'EPERM',
    });
    await expect(v4.request('transferCredits', data)).rejects.toMatchObject({ code: 'EPERM' });
    for (const amount of [-1, 0, '1e400', 'ten', 0.0000000001]) {
      await expect(
        v4.request('transferCredits', { ...data, amount }, { authorize: [owner] }),
      ).rejects.toMatchObject({ code: 'EINVAL' });
    }
    await expect(
      v5.request('transfer@1', { ...data, toAccount: 'not-an-address' }, { authorize: [owner] }),
    ).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(
      v5.request('transfer@1', { ...data, amount: '100' }, { authorize: [owner] }),
    ).rejects.toMatchObject({ code: 'ENOFUNDS' });
    const ghost = new DcpInitiator({
      location: new URL('/v4/bank-teller/', r.url),
      identity: stranger,
      pathStyle: 4,
    });
    try {
      await expect(
        ghost.request(
          'transferCredits',
          { ...data, fromAccount: stranger.address },
          { authorize: [stranger] },
        ),
      ).rejects.toMatchObject({ code: 'ENOACCOUNT' });
      // viewing an address the bank has never seen: an empty account, nothing written
      expect(
        await ghost.request('viewAccount', { address: stranger.address }, { authorize: [stranger] }),
      ).toEqual({
        address: stranger.address.toLowerCase(),
        balance: '0',
        escrow: { num: 0, total: '0' },
      });
      expect(await r.bank.store.getAccount(stranger.address.toLowerCase() as never)).toBeNull();
    } finally {
      await ghost.close();
    }
    const after = await r.bank.store.snapshot();
    expect(after.transactions).toHaveLength(before.transactions.length);
  });
});

describe('bank service: restart', () => {
  it('keeps the teller identity (clients pin it) and the ledger', async () => {
    const first = await startBank();
    const who = Identity.random().address;
    await first.bank.mint.execute({ to: who, amount: dcc('3') });
    const address = first.service.app.get<DcpTarget>(TELLER_TARGET).address;
    await first.service.close();
    const config = loadBankConfig({
      DCP_EMU_DATA_DIR: first.dir,
      DCP_EMU_BANK_PORT: '0',
      DCP_EMU_LOG_LEVEL: 'warn',
    });
    const service = await startService(AppModule.forRoot(config), { name: 'bank', ...config });
    try {
      expect(service.app.get<DcpTarget>(TELLER_TARGET).address).toBe(address);
      const res = await fetch(new URL(`/api/accounts/${who}`, service.listening.url));
      expect(((await res.json()) as { balance: string }).balance).toBe('3');
    } finally {
      await service.close();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});

describe('bank service beyond loopback (DCP_EMU_HOST=0.0.0.0)', () => {
  it('the faucet needs the admin token: 401 without, 401 with a wrong one, nothing minted; the token mints', async () => {
    const saved = process.env.DCP_EMU_ADMIN_TOKEN;
    process.env.DCP_EMU_ADMIN_TOKEN = 'bank-spec-token';
    const r = await startBank({ DCP_EMU_HOST: '0.0.0.0' });
    try {
      const to = Identity.random().address;
      const mint = (headers: Record<string, string>) =>
        fetch(new URL('/api/faucet', r.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ address: to, amount: '1' }),
        });
      for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
        const res = await mint(headers);
        expect({ status: res.status, body: await res.json() }).toMatchObject({
          status: 401,
          body: { error: { code: 'EPERM' } },
        });
      }
      expect((await call(r, 'GET', '/api/faucet')).body.totalMinted).toBe('0');
      expect((await mint({ authorization: 'Bearer bank-spec-token' })).status).toBe(201);
      expect((await call(r, 'GET', `/api/accounts/${to}`)).body.balance).toBe('1');
    } finally {
      if (saved === undefined) delete process.env.DCP_EMU_ADMIN_TOKEN;
      else process.env.DCP_EMU_ADMIN_TOKEN = saved;
      await r.service.close();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
});

describe('bank service: faucet off', () => {
  it('POST /api/faucet is 403 EPERM and mints nothing', async () => {
    const r = await startBank({ DCP_EMU_BANK_FAUCET: 'off' });
    try {
      const res = await call(r, 'POST', '/api/faucet', { address: Identity.random().address, amount: '1' });
      expect(res).toMatchObject({ status: 403, body: { error: { code: 'EPERM' } } });
      expect((await call(r, 'GET', '/api/faucet')).body).toMatchObject({ enabled: false, totalMinted: '0' });
    } finally {
      await r.service.close();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
});
