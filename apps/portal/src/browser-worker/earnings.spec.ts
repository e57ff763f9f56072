import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeystoreSummary } from '../server/ports';
import { accountEarnings } from './earnings';

const mine = '0x00000000000000000000000000000000000000a1';
const theirs = '0x00000000000000000000000000000000000000b2';
const fresh = '0x00000000000000000000000000000000000000c3';
const unproven = '0x00000000000000000000000000000000000000d4';
const summary = (kind: 'bank' | 'identity', address: string, proven = true): KeystoreSummary => ({
  id: `${kind}-${address}`,
  kind,
  label: kind,
  address,
  createdAt: new Date(0),
  provenAt: proven ? new Date(0) : null,
});

describe('accountEarnings', () => {
  let bank: Server;
  let bankUrl: URL;
  const asked: string[] = [];

  beforeAll(async () => {
    bank = createServer((req, res) => {
      asked.push(req.url ?? '');
      const address = (req.url ?? '').split('/').at(-1);
      if (address === mine) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ address: mine, balance: '1.25', held: '0', openHolds: [] }));
      } else if (address === fresh) {
        res.statusCode = 404;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ error: { code: 'ENOACCOUNT', message: `bank account ${fresh} does not exist` } }),
        );
      } else {
        res.statusCode = 500;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => bank.listen(0, '127.0.0.1', r));
    bankUrl = new URL(`http://127.0.0.1:${(bank.address() as AddressInfo).port}/`);
  });
  afterAll(() => new Promise<void>((r) => bank.close(() => r())));

  const keystores = {
    list: async (userId: string) =>
      userId === 'u1'
        ? [
            summary('bank', mine),
            summary('identity', theirs),
            summary('bank', fresh),
            summary('bank', unproven, false),
          ]
        : [],
  };

  it('reads the balance of one of the user bank accounts from the bank', async () => {
    const r = await accountEarnings({ keystores, bankUrl }, 'u1', mine.toUpperCase().replace('0X', '0x'));
    expect(r).toEqual({ ok: true, value: { address: mine, balance: '1.25', held: '0' } });
    expect(asked.at(-1)).toBe(`/api/accounts/${mine}`);
  });

  it('shows an account the bank has not opened yet (never credited) as empty', async () => {
    expect(await accountEarnings({ keystores, bankUrl }, 'u1', fresh)).toEqual({
      ok: true,
      value: { address: fresh, balance: '0', held: '0' },
    });
  });

  it('refuses addresses that are not the user bank keystores, without asking the bank', async () => {
    const before = asked.length;
    expect(await accountEarnings({ keystores, bankUrl }, 'u1', theirs)).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    expect(await accountEarnings({ keystores, bankUrl }, 'u2', mine)).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    // a bank keystore whose key was never proven grants no earnings view
    expect(await accountEarnings({ keystores, bankUrl }, 'u1', unproven)).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    expect(await accountEarnings({ keystores, bankUrl }, 'u1', 'nope')).toMatchObject({
      ok: false,
      error: { code: 'EINVAL' },
    });
    expect(asked.length).toBe(before);
  });

  it('says when the bank is down', async () => {
    const r = await accountEarnings({ keystores, bankUrl: new URL('http://127.0.0.1:9/') }, 'u1', mine);
    expect(r).toMatchObject({ ok: false, error: { code: 'EFETCH' } });
  });
});
