import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import type { AccountId } from '../ledger/account-id';
import { dcc } from '../ledger/amount';
import {
  BRIDGE_PROVIDERS,
  bothLedgers,
  expectConsistent,
  randomWallet,
  signedRequest,
  useBridge,
} from './bridge-stores.test';
import { BRIDGE_ACCOUNT } from './chain';

describe.each(BRIDGE_PROVIDERS)('bridge deposits, emulated chain → bank (%s)', (provider) => {
  const f = useBridge(provider);

  const onChain = async (amount: string) => {
    const owner = randomWallet();
    await f.ledger.mint.execute({ to: owner.address, amount: dcc(amount) });
    await f.bridge.withdraw.execute(
      await signedRequest('withdrawal', { address: owner.address, amount, nonce: 'to-chain' }, owner),
    );
    return owner;
  };

  it('round trip: withdraw 6, deposit 2.25 back; balances, blocks and journal agree', async () => {
    const owner = await onChain('6');
    const address = owner.address.toLowerCase() as AccountId;
    const receipt = await f.bridge.deposit.execute(
      await signedRequest('deposit', { address: owner.address, amount: '2.25', nonce: 'back' }, owner),
    );
    expect(receipt).toMatchObject({ bankBalance: dcc('2.25'), chainBalance: dcc('3.75'), replayed: false });
    const history = await f.bridge.history.execute(owner.address);
    expect(history.map((t) => [t.kind, t.amount])).toEqual([
      ['deposit', dcc('2.25')],
      ['withdrawal', dcc('6')],
    ]);
    expect(history[0]!.blockNumber).toBe(history[1]!.blockNumber + 1);
    const entry = await f.ledger.store.getTransaction(receipt.transaction.bankTransactionId);
    expect(entry?.refs.memo).toBe(`bridge-deposit ${receipt.transaction.hash}`);
    expect(entry?.postings.map((p) => [p.book, p.amount])).toEqual(
      expect.arrayContaining([
        [{ kind: 'account', account: BRIDGE_ACCOUNT }, -dcc('2.25')],
        [{ kind: 'account', account: address }, dcc('2.25')],
      ]),
    );
    expect(await f.bridge.account.execute(owner.address)).toEqual({
      address,
      chainBalance: dcc('3.75'),
      bankBalance: dcc('2.25'),
    });
    await expectConsistent(f);
  });

  it('replays a repeated deposit and credits the bank once', async () => {
    const owner = await onChain('3');
    const request = await signedRequest(
      'deposit',
      { address: owner.address, amount: '1', nonce: 'd-1' },
      owner,
    );
    const first = await f.bridge.deposit.execute(request);
    expect(await f.bridge.deposit.execute(request)).toEqual({ ...first, replayed: true });
    expect((await f.bridge.account.execute(owner.address)).chainBalance).toBe(dcc('2'));
    expect((await f.ledger.balance.execute(owner.address)).balance).toBe(dcc('1'));
    await expectConsistent(f);
  });

  it('refuses unknown chain accounts, overdrafts, reused nonces and forgeries, leaving both ledgers unchanged', async () => {
    const owner = await onChain('2');
    const stranger = randomWallet();
    const cases: Array<[string, DcpErrorCode, () => Promise<unknown>]> = [
      [
        'an address with nothing on the chain',
        DcpErrorCode.ENOACCOUNT,
        async () =>
          f.bridge.deposit.execute(
            await signedRequest('deposit', { address: stranger.address, amount: '1', nonce: 'n' }, stranger),
          ),
      ],
      [
        'more than the chain balance',
        DcpErrorCode.ENOFUNDS,
        async () =>
          f.bridge.deposit.execute(
            await signedRequest('deposit', { address: owner.address, amount: '2.5', nonce: 'big' }, owner),
          ),
      ],
      [
        'the withdrawal’s nonce reused for a deposit',
        DcpErrorCode.EDUP,
        async () =>
          f.bridge.deposit.execute(
            await signedRequest('deposit', { address: owner.address, amount: '2', nonce: 'to-chain' }, owner),
          ),
      ],
      [
        'signed by another key',
        DcpErrorCode.EPERM,
        async () =>
          f.bridge.deposit.execute(
            await signedRequest('deposit', { address: owner.address, amount: '1', nonce: 'x' }, stranger),
          ),
      ],
      [
        'a withdrawal authorization used as a deposit',
        DcpErrorCode.EPERM,
        async () =>
          f.bridge.deposit.execute(
            await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: 'y' }, owner),
          ),
      ],
      [
        'a fractional number amount beyond 9 decimals',
        DcpErrorCode.EINVAL,
        async () =>
          f.bridge.deposit.execute(
            await signedRequest('deposit', { address: owner.address, amount: 1e-10, nonce: 'z' }, owner),
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
    await expectConsistent(f);
  });

  it('accepts a JSON-number amount exactly as signed', async () => {
    const owner = await onChain('1');
    const receipt = await f.bridge.deposit.execute(
      await signedRequest('deposit', { address: owner.address, amount: 0.1, nonce: 1 }, owner),
    );
    expect(receipt.transaction.amount).toBe(dcc('0.1'));
    expect(receipt.chainBalance).toBe(dcc('0.9'));
    await expectConsistent(f);
  });
});
