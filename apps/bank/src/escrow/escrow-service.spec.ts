import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
});
