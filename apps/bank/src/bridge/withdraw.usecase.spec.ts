import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { dcc } from '../ledger/amount';
import type { AccountId } from '../ledger/account-id';
import { bridgeMessage } from './bridge-movement';
import {
  BRIDGE_PROVIDERS,
  bothLedgers,
  expectConsistent,
  randomWallet,
  signedRequest,
  useBridge,
} from './bridge-stores.test';
import { BRIDGE_ACCOUNT, chainTransactionHash } from './chain';

describe.each(BRIDGE_PROVIDERS)('bridge withdrawals, bank → emulated chain (%s)', (provider) => {
  const f = useBridge(provider);

  const funded = async (amount: string) => {
    const wallet = randomWallet();
    await f.ledger.mint.execute({ to: wallet.address, amount: dcc(amount) });
    return wallet;
  };

  it('moves DCC from the bank account to the chain in one block with a balanced journal entry', async () => {
    const owner = await funded('10');
    const address = owner.address.toLowerCase() as AccountId;
    const before = await f.store.snapshot();
    const receipt = await f.bridge.withdraw.execute(
      await signedRequest('withdrawal', { address: owner.address, amount: '2.5', nonce: 'n-1' }, owner),
    );
    expect(receipt.replayed).toBe(false);
    expect(receipt.bankBalance).toBe(dcc('7.5'));
    expect(receipt.chainBalance).toBe(dcc('2.5'));
    const t = receipt.transaction;
    expect(t).toMatchObject({ kind: 'withdrawal', address, amount: dcc('2.5'), nonce: 'n-1' });
    expect(t.blockNumber).toBe(before.height + 1);
    expect(t.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(t.hash).toBe(chainTransactionHash(t));

    const entry = await f.ledger.store.getTransaction(t.bankTransactionId);
    expect(entry?.refs.memo).toBe(`bridge-withdrawal ${t.hash}`);
    expect(entry?.postings.map((p) => [p.book, p.amount])).toEqual(
      expect.arrayContaining([
        [{ kind: 'account', account: address }, -dcc('2.5')],
        [{ kind: 'account', account: BRIDGE_ACCOUNT }, dcc('2.5')],
      ]),
    );
    expect((await f.bridge.account.execute(owner.address)).chainBalance).toBe(dcc('2.5'));
    expect((await f.ledger.balance.execute(owner.address)).balance).toBe(dcc('7.5'));
    await expectConsistent(f);
  });

  it('replays a repeated request (same nonce, same values) and moves the money once', async () => {
    const owner = await funded('5');
    const request = await signedRequest(
      'withdrawal',
      { address: owner.address, amount: '1', nonce: 7 },
      owner,
    );
    const first = await f.bridge.withdraw.execute(request);
    const again = await f.bridge.withdraw.execute(request);
    // the nonce 7 sent as the string '7' (another valid signature) is the same movement
    const asText = await f.bridge.withdraw.execute(
      await signedRequest('withdrawal', { address: owner.address, amount: '1.000', nonce: '7' }, owner),
    );
    expect(again).toEqual({ ...first, replayed: true });
    expect(asText).toEqual({ ...first, replayed: true });
    expect((await f.ledger.balance.execute(owner.address)).balance).toBe(dcc('4'));
    expect((await f.bridge.history.execute(owner.address)).map((t) => t.hash)).toEqual([
      first.transaction.hash,
    ]);
    await expectConsistent(f);
  });

  it('refuses forged, replayed-for-other-values, malformed and unfunded requests, leaving both ledgers unchanged', async () => {
    const owner = await funded('3');
    const thief = randomWallet();
    const stranger = randomWallet(); // never seen by the bank
    await f.bridge.withdraw.execute(
      await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: 'used' }, owner),
    );
    const valid = await signedRequest(
      'withdrawal',
      { address: owner.address, amount: '1', nonce: 'fresh' },
      owner,
    );
    const depositSigned = await signedRequest(
      'deposit',
      { address: owner.address, amount: '1', nonce: 'fresh' },
      owner,
    );
    const cases: Array<[string, DcpErrorCode, () => Promise<unknown>]> = [
      [
        'signed by another key',
        DcpErrorCode.EPERM,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: 'x1' }, thief),
          ),
      ],
      [
        'amount altered after signing',
        DcpErrorCode.EPERM,
        () => f.bridge.withdraw.execute({ ...valid, amount: '2' }),
      ],
      [
        'nonce altered after signing',
        DcpErrorCode.EPERM,
        () => f.bridge.withdraw.execute({ ...valid, nonce: 'fresh2' }),
      ],
      [
        'a deposit authorization used as a withdrawal',
        DcpErrorCode.EPERM,
        () => f.bridge.withdraw.execute(depositSigned),
      ],
      [
        'someone else’s address with the owner’s signature',
        DcpErrorCode.EPERM,
        () => f.bridge.withdraw.execute({ ...valid, address: thief.address }),
      ],
      [
        'the nonce reused for another amount',
        DcpErrorCode.EDUP,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest(
              'withdrawal',
              { address: owner.address, amount: '0.5', nonce: 'used' },
              owner,
            ),
          ),
      ],
      ...(
        [
          ['a negative amount', '-1'],
          ['a zero amount', '0'],
          ['more than 9 decimals', '0.0000000001'],
          ['text', 'lots'],
          ['more than the ledger can hold', '99999999999999999999'],
        ] as const
      ).map(([what, amount]): [string, DcpErrorCode, () => Promise<unknown>] => [
        what,
        DcpErrorCode.EINVAL,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest(
              'withdrawal',
              { address: owner.address, amount, nonce: `bad-${what.length}` },
              owner,
            ),
          ),
      ]),
      [
        'a malformed nonce',
        DcpErrorCode.EINVAL,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest(
              'withdrawal',
              { address: owner.address, amount: '1', nonce: 'has space' },
              owner,
            ),
          ),
      ],
      [
        'a negative nonce',
        DcpErrorCode.EINVAL,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: -1 }, owner),
          ),
      ],
      [
        'a malformed address',
        DcpErrorCode.EINVAL,
        () => f.bridge.withdraw.execute({ ...valid, address: '0x1234' }),
      ],
      [
        'a malformed signature',
        DcpErrorCode.EINVAL,
        () => f.bridge.withdraw.execute({ ...valid, signature: `${valid.signature.slice(0, -2)}zz` }),
      ],
      [
        'an unknown bank account',
        DcpErrorCode.ENOACCOUNT,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest(
              'withdrawal',
              { address: stranger.address, amount: '1', nonce: 'n' },
              stranger,
            ),
          ),
      ],
      [
        'more than the bank balance',
        DcpErrorCode.ENOFUNDS,
        async () =>
          f.bridge.withdraw.execute(
            await signedRequest(
              'withdrawal',
              { address: owner.address, amount: '2.000000001', nonce: 'big' },
              owner,
            ),
          ),
      ],
    ];
    for (const [what, code, attempt] of cases) {
      const before = await bothLedgers(f);
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(DcpError);
      expect((error as DcpError).code, `${what}: ${(error as Error).message}`).toBe(code);
      expect(await bothLedgers(f), what).toEqual(before);
    }
    // the fresh, valid request still works afterwards (its nonce was not burnt by the refusals)
    expect((await f.bridge.withdraw.execute(valid)).chainBalance).toBe(dcc('2'));
    await expectConsistent(f);
  });

  it('signs the documented message text', () => {
    expect(bridgeMessage('withdrawal', { address: '0xAb', amount: '1.5', nonce: 3 })).toBe(
      '{"type":"dcp-emu/bank/withdraw@1","address":"0xAb","amount":"1.5","nonce":3}',
    );
  });

  it('runs concurrent withdrawals one block at a time and never overdraws', async () => {
    const owner = await funded('10');
    const requests = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: `c-${i}` }, owner),
      ),
    );
    const results = await Promise.allSettled(requests.map((r) => f.bridge.withdraw.execute(r)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as DcpError] : []));
    expect(ok).toHaveLength(10);
    expect(refused.map((e) => e.code)).toEqual(Array(6).fill(DcpErrorCode.ENOFUNDS));
    expect((await f.ledger.balance.execute(owner.address)).balance).toBe(0n);
    expect((await f.bridge.account.execute(owner.address)).chainBalance).toBe(dcc('10'));
    await expectConsistent(f);
  });

  it('the same request sent many times at once moves the money once; every answer is the same receipt', async () => {
    const owner = await funded('3');
    const request = await signedRequest(
      'withdrawal',
      { address: owner.address, amount: '2', nonce: 'race' },
      owner,
    );
    const receipts = await Promise.all(Array.from({ length: 8 }, () => f.bridge.withdraw.execute(request)));
    expect(receipts.filter((r) => !r.replayed)).toHaveLength(1);
    for (const r of receipts) expect({ ...r, replayed: false }).toEqual({ ...receipts[0]!, replayed: false });
    expect((await f.ledger.balance.execute(owner.address)).balance).toBe(dcc('1'));
    expect((await f.bridge.account.execute(owner.address)).chainBalance).toBe(dcc('2'));
    await expectConsistent(f);
  });

  it('commits both sides or neither: a failure after the journal entry leaves nothing behind', async () => {
    const owner = await funded('4');
    const before = await bothLedgers(f);
    const broken = {
      ...f.store,
      transaction: <T>(fn: Parameters<typeof f.store.transaction<T>>[0]) =>
        f.store.transaction((tx) =>
          fn({
            ...tx,
            ledger: tx.ledger,
            lockHead: () => tx.lockHead(),
            setHead: () => Promise.reject(new Error('crash after the journal entry and the chain credit')),
          }),
        ),
    };
    const { createBridge } = await import('./bridge');
    const crashing = createBridge({ store: broken });
    await expect(
      crashing.withdraw.execute(
        await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: 'crash' }, owner),
      ),
    ).rejects.toThrow(/crash after/);
    expect(await bothLedgers(f)).toEqual(before);
    await expectConsistent(f);
  });
});
