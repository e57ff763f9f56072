import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@dcp-emu/db';
import {
  type AttachedTarget,
  attachDcpTarget,
  DcpError,
  DcpInitiator,
  DcpTarget,
  dcc,
  formatDcc,
  Identity,
  type IncomingRequest,
  OperationRegistry,
} from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type BankLedger, createBankLedger } from '../accounts/bank-ledger';
import { PrismaLedgerStore } from '../accounts/prisma-ledger.store';
import { auditLedger } from '../ledger/invariants';
import { MemoryLedgerStore } from '../ledger/memory-store';
import { ConfiguredSchedulerTrust, ESCROW_PATH, ESCROW_SERVICE, escrowOperations } from './escrow-service';

/**
 * The escrow service over real DCP on loopback: a client signs a submit (allow/auth for its payment
 * account, guardian = the scheduler) to a stand-in scheduler target that keeps the request as it
 * arrived; the scheduler forwards that authorization to the bank's escrow service.
 */

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as never;

async function serve(target: DcpTarget): Promise<{ server: Server; attached: AttachedTarget; url: string }> {
  const server = createServer();
  const attached = attachDcpTarget(target, server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, attached, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('bank escrow service (scheduler → bank over DCP)', () => {
  const scheduler = Identity.random();
  const stranger = Identity.random();
  const client = Identity.random();
  const payer = Identity.random();
  const worker = Identity.random().address;
  let bank: BankLedger;
  let bankSide: Awaited<ReturnType<typeof serve>>;
  let schedSide: Awaited<ReturnType<typeof serve>>;
  let submits: IncomingRequest[];
  let asScheduler: DcpInitiator;
  let asStranger: DcpInitiator;
  let asClient: DcpInitiator;

  /** A genuine signed submit from the client, authorizing the scheduler to spend from `payer`. */
  const authorization = async (paymentAccount = payer.address, signers = [payer]) => {
    await asClient.request('submit@5', { paymentAccount, job: 'j1' }, { authorize: signers });
    const req = submits.at(-1)!;
    return {
      payload: req.rawPayload as Record<string, unknown>,
      auth: req.auth ?? {},
      accessor: client.address,
    };
  };
  const balance = async (a: string) => (await bank.balance.execute(a)).balance;
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as DcpError;
    }
    throw new Error('expected a refusal');
  };

  beforeAll(async () => {
    bank = createBankLedger({ store: new MemoryLedgerStore() });
    const bankTarget = new DcpTarget({ identity: Identity.random(), logger: quiet });
    bankTarget.service(
      ESCROW_SERVICE,
      escrowOperations(bank, new ConfiguredSchedulerTrust([scheduler.address])),
      {
        path: ESCROW_PATH,
      },
    );
    bankSide = await serve(bankTarget);

    const schedTarget = new DcpTarget({ identity: scheduler, logger: quiet });
    submits = [];
    schedTarget.service(
      'jobSubmit',
      new OperationRegistry().register({
        operation: 'submit@5',
        schema: z.object({}).loose(),
        handler: (_data, ctx) => {
          submits.push(ctx.request);
          return { ok: true };
        },
      }),
      { path: '/job-submit/' },
    );
    schedSide = await serve(schedTarget);
    asClient = new DcpInitiator({
      location: `${schedSide.url}/job-submit/`,
      identity: client,
      logger: quiet,
    });
    asScheduler = new DcpInitiator({
      location: `${bankSide.url}${ESCROW_PATH}`,
      identity: scheduler,
      logger: quiet,
    });
    asStranger = new DcpInitiator({
      location: `${bankSide.url}${ESCROW_PATH}`,
      identity: stranger,
      logger: quiet,
    });
  });

  afterAll(async () => {
    for (const i of [asClient, asScheduler, asStranger]) await i?.close();
    for (const side of [bankSide, schedSide]) {
      await side?.attached.close();
      await new Promise((r) => side?.server.close(r));
    }
  });

  beforeEach(async () => {
    await bank.mint.execute({ to: payer.address, amount: dcc('1') });
  });

  it('holds with the payer’s forwarded authorization, captures once per key, releases the rest', async () => {
    const before = await balance(payer.address);
    const held = (await asScheduler.request('hold@1', {
      job: 'j1',
      paymentAccount: payer.address,
      amount: '0.5',
      key: 'job:j1:hold',
      authorization: await authorization(),
    })) as { hold: string; held: string };
    expect(held.held).toBe('0.5');
    expect(await balance(payer.address)).toBe(before - dcc('0.5'));

    const capture = {
      hold: held.hold,
      to: worker,
      amount: '0.1',
      commission: { to: scheduler.address, amount: '0.01' },
      slice: 1,
      worker: 'w',
      key: 'job:j1:slice:1',
    };
    await asScheduler.request('capture@1', capture);
    const again = (await asScheduler.request('capture@1', capture)) as { replayed: boolean };
    expect(again.replayed).toBe(true);
    expect(await balance(worker)).toBe(dcc('0.1'));
    expect(await balance(scheduler.address)).toBe(dcc('0.01'));
    // the same key for another payment is refused, nothing moves
    expect(
      (await refusal(asScheduler.request('capture@1', { ...capture, amount: '0.2' }))).code,
    ).toBeDefined();
    expect(await balance(worker)).toBe(dcc('0.1'));

    const released = (await asScheduler.request('release@1', { hold: held.hold })) as { released: string };
    expect(released.released).toBe('0.39');
    expect(await balance(payer.address)).toBe(before - dcc('0.11'));
  });

  it('refuses an untrusted caller, a forged or misdirected authorization, and bad amounts; nothing moves', async () => {
    const before = await balance(payer.address);
    const good = await authorization();
    const hold = { job: 'j2', paymentAccount: payer.address, amount: '0.2', key: 'job:j2:hold' };

    expect((await refusal(asStranger.request('hold@1', { ...hold, authorization: good }))).code).toBe(
      'EPERM',
    );
    // the payload altered after signing (another payment account named) no longer verifies
    const other = Identity.random();
    await bank.mint.execute({ to: other.address, amount: dcc('1') });
    const tampered = {
      ...good,
      payload: { ...good.payload, data: { paymentAccount: other.address, job: 'j1' } },
    };
    expect(
      (
        await refusal(
          asScheduler.request('hold@1', { ...hold, paymentAccount: other.address, authorization: tampered }),
        )
      ).code,
    ).toBe('EPERM');
    // signed by someone else than the payment account
    const byClient = await authorization(payer.address, [client]);
    expect((await refusal(asScheduler.request('hold@1', { ...hold, authorization: byClient }))).code).toBe(
      'EPERM',
    );
    // an authorization for another account cannot spend this one
    const forOther = await authorization(other.address, [other]);
    expect((await refusal(asScheduler.request('hold@1', { ...hold, authorization: forOther }))).code).toBe(
      'EPERM',
    );
    for (const amount of ['-1', 'abc', '0', '1e-12'])
      expect(
        (await refusal(asScheduler.request('hold@1', { ...hold, amount, authorization: good }))).code,
      ).toBe('EINVAL');
    expect(await balance(payer.address)).toBe(before);
    expect(await balance(other.address)).toBe(dcc('1'));
  });

  it('answers ENOFUNDS for an account that cannot cover the hold (also one never credited)', async () => {
    const empty = Identity.random();
    const forEmpty = await authorization(empty.address, [empty]);
    const e = await refusal(
      asScheduler.request('hold@1', {
        job: 'j3',
        paymentAccount: empty.address,
        amount: '0.1',
        key: 'k3',
        authorization: forEmpty,
      }),
    );
    expect(e.code).toBe('ENOFUNDS');
    const rich = await authorization();
    const tooMuch = await refusal(
      asScheduler.request('hold@1', {
        job: 'j4',
        paymentAccount: payer.address,
        amount: formatDcc((await balance(payer.address)) + 1n),
        key: 'k4',
        authorization: rich,
      }),
    );
    expect(tooMuch.code).toBe('ENOFUNDS');
  });

  it('captureBatch@1: one request settles many slices, a replay pays nothing twice', async () => {
    const held = (await asScheduler.request('hold@1', {
      job: 'jb',
      paymentAccount: payer.address,
      amount: '0.5',
      key: 'job:jb:hold',
      authorization: await authorization(),
    })) as { hold: string };
    const workerBefore = await balance(worker);
    const captures = Array.from({ length: 300 }, (_, i) => ({
      hold: held.hold,
      to: worker,
      amount: '0.001',
      commission: { to: scheduler.address, amount: '0.0001' },
      slice: i + 1,
      worker: 'w',
      key: `job:jb:slice:${i + 1}`,
    }));
    const first = (await asScheduler.request('captureBatch@1', { captures })) as BatchAnswer;
    expect(first.results.every((r) => r.status === 'settled')).toBe(true);
    expect(first.results.map((r) => r.key)).toEqual(captures.map((c) => c.key));
    expect(first.holds).toEqual([
      expect.objectContaining({ hold: held.hold, captured: '0.33', remaining: '0.17' }),
    ]);
    expect(await balance(worker)).toBe(workerBefore + dcc('0.3'));

    const again = (await asScheduler.request('captureBatch@1', { captures })) as BatchAnswer;
    expect(again.results.map((r) => r.status)).toEqual(captures.map(() => 'replayed'));
    expect(again.results.map((r) => (r.status === 'failed' ? '' : r.transaction))).toEqual(
      first.results.map((r) => (r.status === 'failed' ? '' : r.transaction)),
    );
    // the single-capture op sees the same keys as settled
    const single = (await asScheduler.request('capture@1', captures[0])) as {
      replayed: boolean;
      transaction: string;
    };
    expect(single).toMatchObject({
      replayed: true,
      transaction: (first.results[0] as { transaction: string }).transaction,
    });
    expect(await balance(worker)).toBe(workerBefore + dcc('0.3'));
  });

  it('captureBatch@1: a mixed batch answers each item; an untrusted caller moves nothing', async () => {
    const held = (await asScheduler.request('hold@1', {
      job: 'jm',
      paymentAccount: payer.address,
      amount: '0.05',
      key: 'job:jm:hold',
      authorization: await authorization(),
    })) as { hold: string };
    const pay = (slice: number, amount = '0.01') => ({
      hold: held.hold,
      to: worker,
      amount,
      slice,
      worker: 'w',
      key: `job:jm:slice:${slice}`,
    });
    await asScheduler.request('capture@1', pay(1));
    const workerBefore = await balance(worker);
    const stolen = pay(9, '0.001');
    expect((await refusal(asStranger.request('captureBatch@1', { captures: [stolen] }))).code).toBe('EPERM');
    expect(await balance(worker)).toBe(workerBefore);

    const answer = (await asScheduler.request('captureBatch@1', {
      captures: [
        pay(1), // settled before → replayed
        pay(2),
        pay(3, '0.02'),
        pay(4, '0.02'), // 0.01 + 0.01 + 0.02 + 0.02 > 0.05 → ENOFUNDS
        pay(5, '-1'), // EINVAL, alone
        { ...pay(6), to: 'nobody' }, // malformed: EINVAL, alone
        { ...pay(7), hold: 'hold_nope' }, // ENOENT
        pay(8, '0.01'), // still fits
        stolen, // the stranger's attempt did not use the key
      ],
    })) as BatchAnswer;
    expect(answer.results.map((r) => (r.status === 'failed' ? r.code : r.status))).toEqual([
      'replayed',
      'settled',
      'settled',
      'ENOFUNDS',
      'EINVAL',
      'EINVAL',
      'ENOENT',
      'settled',
      'ENOFUNDS',
    ]);
    expect(answer.results[3]).toMatchObject({
      key: 'job:jm:slice:4',
      message: expect.stringContaining('DCC left'),
    });
    expect(await balance(worker)).toBe(workerBefore + dcc('0.04'));
    expect(answer.holds[0]).toMatchObject({ remaining: '0', captured: '0.05' });

    // the hold released: the rest of the job's payments are EJOBSTATE, nothing moves
    await asScheduler.request('release@1', { hold: held.hold });
    const late = (await asScheduler.request('captureBatch@1', {
      captures: [pay(4, '0.001')],
    })) as BatchAnswer;
    expect(late.results[0]).toMatchObject({ status: 'failed', code: 'EJOBSTATE' });
    // an empty or oversized batch is refused as a whole
    expect((await refusal(asScheduler.request('captureBatch@1', { captures: [] }))).code).toBe('EINVAL');
  });
});

type BatchAnswer = {
  results: Array<
    | { key: string | null; status: 'settled' | 'replayed'; transaction: string }
    | { key: string | null; status: 'failed'; code: string; message: string }
  >;
  holds: Array<{ hold: string; captured: string; remaining: string; status: string }>;
};

describe('captureBatch@1 across a bank restart (SQLite)', () => {
  it('pays every key exactly once when the scheduler resends a batch to the restarted bank', async () => {
    const { freshDatabase } = await import('@dcp-emu/testing');
    const database = await freshDatabase('sqlite');
    const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bank-restart-'));
    const scheduler = Identity.random();
    const bankIdentity = Identity.random();
    const payer = Identity.random().address;
    const workers = [Identity.random().address, Identity.random().address];
    let port = 0;
    const startBank = async () => {
      const db = await openDatabase({ url: database.url, dataDir });
      const bank = createBankLedger({ store: new PrismaLedgerStore(db.prisma, db.provider) });
      const target = new DcpTarget({ identity: bankIdentity, logger: quiet });
      target.service(
        ESCROW_SERVICE,
        escrowOperations(bank, new ConfiguredSchedulerTrust([scheduler.address])),
        {
          path: ESCROW_PATH,
        },
      );
      const server = createServer();
      const attached = attachDcpTarget(target, server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
      return {
        bank,
        async stop() {
          await attached.close();
          await new Promise((r) => server.close(r));
          await db.close();
        },
      };
    };
    let running = await startBank();
    const connect = () =>
      new DcpInitiator({
        location: `http://127.0.0.1:${port}${ESCROW_PATH}`,
        identity: scheduler,
        logger: quiet,
      });
    let initiator = connect();
    try {
      await running.bank.mint.execute({ to: payer, amount: dcc('10') });
      const { hold } = await running.bank.hold.execute({
        account: payer,
        amount: dcc('5'),
        refs: { job: 'jr' },
      });
      const captures = Array.from({ length: 400 }, (_, i) => ({
        hold: hold.id,
        to: workers[i % 2]!,
        amount: '0.01',
        commission: { to: scheduler.address, amount: '0.001' },
        slice: i + 1,
        worker: 'w',
        key: `job:jr:slice:${i + 1}`,
      }));
      const first = (await initiator.request('captureBatch@1', {
        captures: captures.slice(0, 250),
      })) as BatchAnswer;
      expect(first.results.every((r) => r.status === 'settled')).toBe(true);

      await running.stop();
      await initiator.close(); // the bank said goodbye: the scheduler's next round connects again
      running = await startBank();
      initiator = connect();
      // the scheduler did not record the answer: it sends the whole round again, plus the rest
      const second = (await initiator.request('captureBatch@1', { captures })) as BatchAnswer;
      expect(second.results.slice(0, 250).every((r) => r.status === 'replayed')).toBe(true);
      expect(second.results.slice(250).every((r) => r.status === 'settled')).toBe(true);
      expect(second.results.slice(0, 250)).toEqual(first.results.map((r) => ({ ...r, status: 'replayed' })));

      for (const w of workers) expect((await running.bank.balance.execute(w)).balance).toBe(dcc('2'));
      expect((await running.bank.balance.execute(scheduler.address)).balance).toBe(dcc('0.4'));
      const snapshot = await running.bank.store.snapshot();
      expect(snapshot.transactions.filter((t) => t.reason === 'capture')).toHaveLength(400);
      expect(auditLedger(snapshot).problems).toEqual([]);
    } finally {
      await initiator.close();
      await running.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
