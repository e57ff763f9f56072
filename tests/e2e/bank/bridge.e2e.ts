import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule, loadBankConfig } from '@dcp-emu/bank';
import { type RunningService, startService } from '@dcp-emu/nest-kit';
import { Wallet } from 'ethers';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * Acceptance: the emulated blockchain bridge over real HTTP, as the portal uses it: requests signed
 * with ethers' `signMessage` (EIP-191) over JSON.stringify({type, address, amount, nonce}).
 */

type Json = Record<string, unknown> & { error?: { code: string; message: string } };

const TYPES = { withdrawals: 'dcp-emu/bank/withdraw@1', deposits: 'dcp-emu/bank/deposit@1' } as const;

function wallet(): Wallet {
  return new Wallet(`0x${randomBytes(32).toString('hex')}`);
}

async function signed(
  route: keyof typeof TYPES,
  values: { address: string; amount: string | number; nonce: string | number },
  signer: Wallet,
) {
  const message = JSON.stringify({
    type: TYPES[route],
    address: values.address,
    amount: values.amount,
    nonce: values.nonce,
  });
  return { ...values, signature: await signer.signMessage(message) };
}

describe.each(['sqlite', 'postgresql'] as const)(
  'bank: emulated blockchain bridge over HTTP (%s)',
  (provider) => {
    let bank: RunningService;
    let dataDir: string;
    let database: TestDatabase;

    const call = async (method: 'GET' | 'POST', path: string, body?: unknown, raw?: string) => {
      const res = await fetch(new URL(path, bank.listening.url), {
        method,
        headers: { 'content-type': 'application/json' },
        ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };

    /** Both sides of an address plus its chain history: what must not change on a refusal. */
    const state = async (address: string) => ({
      account: (await call('GET', `/api/bridge/accounts/${address}`)).body,
      transactions: (await call('GET', `/api/bridge/accounts/${address}/transactions`)).body,
    });

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bridge-e2e-'));
      database = await freshDatabase(provider, provider === 'postgresql' ? inject('pgUrl') : undefined);
      const cfg = loadBankConfig({
        DCP_EMU_DATABASE_URL: database.url,
        DCP_EMU_DATA_DIR: dataDir,
        DCP_EMU_BANK_PORT: '0',
        DCP_EMU_LOG_LEVEL: 'warn',
      });
      bank = await startService(AppModule.forRoot(cfg), { name: 'bank', ...cfg });
    });

    afterAll(async () => {
      await bank?.close();
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('withdraw → deposit round trip with hashes, blocks, history and exact balances', async () => {
      const owner = wallet();
      expect((await call('POST', '/api/faucet', { address: owner.address, amount: '20' })).status).toBe(201);
      const address = owner.address.toLowerCase();
      expect((await call('GET', `/api/bridge/accounts/${owner.address}`)).body).toEqual({
        address,
        chainBalance: '0',
        bankBalance: '20',
      });

      const out = await call(
        'POST',
        '/api/bridge/withdrawals',
        await signed('withdrawals', { address: owner.address, amount: '7.125', nonce: 'w-1' }, owner),
      );
      expect(out.status, JSON.stringify(out.body)).toBe(201);
      expect(out.body).toMatchObject({
        kind: 'withdrawal',
        address,
        amount: '7.125',
        bankBalance: '12.875',
        chainBalance: '7.125',
      });
      expect(out.body.hash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(Number.isInteger(out.body.blockNumber)).toBe(true);
      expect(new Date(String(out.body.at)).toISOString()).toBe(out.body.at);

      const back = await call(
        'POST',
        '/api/bridge/deposits',
        await signed('deposits', { address: owner.address, amount: '2', nonce: 'd-1' }, owner),
      );
      expect(back.status, JSON.stringify(back.body)).toBe(201);
      expect(back.body).toMatchObject({
        kind: 'deposit',
        amount: '2',
        bankBalance: '14.875',
        chainBalance: '5.125',
      });
      expect(back.body.blockNumber).toBe(Number(out.body.blockNumber) + 1);
      expect(back.body.hash).not.toBe(out.body.hash);

      expect((await call('GET', `/api/bridge/accounts/${address}`)).body).toEqual({
        address,
        chainBalance: '5.125',
        bankBalance: '14.875',
      });
      const strip = ({ bankBalance: _b, chainBalance: _c, ...t }: Json) => t;
      const history = await call('GET', `/api/bridge/accounts/${owner.address}/transactions`);
      expect(history.body).toEqual({ transactions: [strip(back.body), strip(out.body)] });
      const paged = await call('GET', `/api/bridge/accounts/${owner.address}/transactions?limit=1&offset=1`);
      expect(paged.body).toEqual({ transactions: [strip(out.body)] });

      // the bank's own journal shows the movement against the bridge account, referencing the hash
      const journal = await call('GET', `/api/accounts/${owner.address}/history`);
      const entries = journal.body.entries as Array<{
        delta: string;
        transaction: { refs: { memo?: string } };
      }>;
      expect(entries.slice(0, 2).map((e) => [e.delta, e.transaction.refs.memo])).toEqual([
        ['2', `bridge-deposit ${back.body.hash}`],
        ['-7.125', `bridge-withdrawal ${out.body.hash}`],
      ]);
    });

    it('a repeated request answers the same and moves money once; refusals change nothing', async () => {
      const owner = wallet();
      const thief = wallet();
      expect((await call('POST', '/api/faucet', { address: owner.address, amount: '5' })).status).toBe(201);
      const request = await signed(
        'withdrawals',
        { address: owner.address, amount: '1.5', nonce: 42 },
        owner,
      );
      const first = await call('POST', '/api/bridge/withdrawals', request);
      const again = await call('POST', '/api/bridge/withdrawals', request);
      expect(first.status).toBe(201);
      expect(again).toEqual(first);
      const settled = await state(owner.address);
      expect(settled.account).toMatchObject({ chainBalance: '1.5', bankBalance: '3.5' });

      const refusals: Array<[string, number, string, () => Promise<{ status: number; body: Json }>]> = [
        [
          'same nonce, another amount',
          409,
          'EDUP',
          async () =>
            call(
              'POST',
              '/api/bridge/withdrawals',
              await signed('withdrawals', { address: owner.address, amount: '1', nonce: 42 }, owner),
            ),
        ],
        [
          'signed by another key',
          403,
          'EPERM',
          async () =>
            call(
              'POST',
              '/api/bridge/withdrawals',
              await signed('withdrawals', { address: owner.address, amount: '1', nonce: 'x' }, thief),
            ),
        ],
        [
          'a withdrawal authorization sent as a deposit',
          403,
          'EPERM',
          async () =>
            call(
              'POST',
              '/api/bridge/deposits',
              await signed('withdrawals', { address: owner.address, amount: '1', nonce: 'y' }, owner),
            ),
        ],
        [
          'more than the bank balance',
          409,
          'ENOFUNDS',
          async () =>
            call(
              'POST',
              '/api/bridge/withdrawals',
              await signed('withdrawals', { address: owner.address, amount: '3.6', nonce: 'big' }, owner),
            ),
        ],
        [
          'more than the chain balance',
          409,
          'ENOFUNDS',
          async () =>
            call(
              'POST',
              '/api/bridge/deposits',
              await signed('deposits', { address: owner.address, amount: '1.6', nonce: 'big2' }, owner),
            ),
        ],
        [
          'a negative amount',
          400,
          'EINVAL',
          async () =>
            call(
              'POST',
              '/api/bridge/withdrawals',
              await signed('withdrawals', { address: owner.address, amount: '-1', nonce: 'neg' }, owner),
            ),
        ],
        [
          'a malformed amount',
          400,
          'EINVAL',
          async () =>
            call(
              'POST',
              '/api/bridge/withdrawals',
              await signed('withdrawals', { address: owner.address, amount: '1,5', nonce: 'comma' }, owner),
            ),
        ],
        [
          'no signature',
          400,
          'EINVAL',
          () => call('POST', '/api/bridge/withdrawals', { address: owner.address, amount: '1', nonce: 'n' }),
        ],
        [
          'an extra key',
          400,
          'EINVAL',
          async () =>
            call('POST', '/api/bridge/withdrawals', {
              ...(await signed('withdrawals', { address: owner.address, amount: '1', nonce: 'e' }, owner)),
              to: thief.address,
            }),
        ],
        [
          'a body that is not JSON',
          400,
          'EINVAL',
          () => call('POST', '/api/bridge/withdrawals', undefined, '{nope'),
        ],
      ];
      for (const [what, status, code, attempt] of refusals) {
        const res = await attempt();
        expect([res.status, res.body.error?.code], `${what}: ${JSON.stringify(res.body)}`).toEqual([
          status,
          code,
        ]);
        expect(res.body.error?.message.length, what).toBeGreaterThan(10);
        expect(await state(owner.address), what).toEqual(settled);
      }

      const stranger = wallet();
      const unknown = await call(
        'POST',
        '/api/bridge/withdrawals',
        await signed('withdrawals', { address: stranger.address, amount: '1', nonce: 'n' }, stranger),
      );
      expect([unknown.status, unknown.body.error?.code]).toEqual([404, 'ENOACCOUNT']);
      const nothingOnChain = await call(
        'POST',
        '/api/bridge/deposits',
        await signed('deposits', { address: stranger.address, amount: '1', nonce: 'n' }, stranger),
      );
      expect([nothingOnChain.status, nothingOnChain.body.error?.code]).toEqual([404, 'ENOACCOUNT']);
      expect((await call('GET', `/api/accounts/${stranger.address}`)).status).toBe(404);
      expect((await call('GET', '/api/bridge/accounts/0x1234')).status).toBe(400);
    });

    it('documents the bridge routes in the OpenAPI document, marked as emulated', async () => {
      const doc = (await call('GET', '/api/openapi.json')).body as {
        info: { description: string };
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/bridge/accounts/{address}',
          '/api/bridge/accounts/{address}/transactions',
          '/api/bridge/withdrawals',
          '/api/bridge/deposits',
        ]),
      );
      expect(doc.info.description).toMatch(/bridge .* EMULATED/);
      expect(Object.keys(doc.components.schemas)).toEqual(
        expect.arrayContaining(['BridgeRequest', 'BridgeReceipt', 'BridgeAccount', 'ChainTransactions']),
      );
    });
  },
);
