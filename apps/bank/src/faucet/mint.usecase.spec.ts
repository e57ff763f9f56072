import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { asAccount, randomAddress, STORE_KINDS, useLedgerStore } from '../accounts/ledger-stores.test';
import { ISSUANCE_ACCOUNT } from '../ledger/account-id';
import { dcc } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';
import { randomIds, systemClock } from '../ledger/ports';
import { DEV_FAUCET } from './faucet-policy';
import { MintUseCase } from './mint.usecase';

describe.each(STORE_KINDS)('the dev faucet (%s)', (kind) => {
  const ctx = useLedgerStore(kind);
  const mint = () => new MintUseCase({ store: ctx.store, clock: systemClock, ids: randomIds }, DEV_FAUCET);

  it('mints into a new account against the issuance account and tracks the total', async () => {
    const to = randomAddress();
    const before = await mint().totalMinted();
    const { transaction, replayed } = await mint().execute({ to, amount: dcc('25.5'), memo: 'dev' });
    expect(replayed).toBe(false);
    expect(transaction.reason).toBe('mint');
    expect(transaction.refs).toEqual({ memo: 'dev' });
    expect((await ctx.store.getAccount(asAccount(to)))?.balance).toBe(dcc('25.5'));
    expect(await mint().totalMinted()).toBe(before + dcc('25.5'));
    expect((await ctx.store.getAccount(ISSUANCE_ACCOUNT))?.balance).toBe(-(before + dcc('25.5')));
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('mints once per idempotency key', async () => {
    const to = randomAddress();
    const first = await mint().execute({ to, amount: dcc('1'), idempotencyKey: `faucet:${to}` });
    const again = await mint().execute({ to, amount: dcc('1'), idempotencyKey: `faucet:${to}` });
    expect(again).toEqual({ transaction: first.transaction, replayed: true });
    expect((await ctx.store.getAccount(asAccount(to)))?.balance).toBe(dcc('1'));
    await expect(
      mint().execute({ to, amount: dcc('2'), idempotencyKey: `faucet:${to}` }),
    ).rejects.toMatchObject({
      code: DcpErrorCode.EDUP,
    });
  });

  it('refuses when disabled, above the cap, and for forged amounts or addresses, changing nothing', async () => {
    const deps = { store: ctx.store, clock: systemClock, ids: randomIds };
    const before = await ctx.store.snapshot();
    const to = randomAddress();
    const off = new MintUseCase(deps, { ...DEV_FAUCET, enabled: false });
    await expect(off.execute({ to, amount: 1n })).rejects.toMatchObject({ code: DcpErrorCode.EPERM });
    const capped = new MintUseCase(deps, { enabled: true, maxPerMint: dcc('5') });
    await expect(capped.execute({ to, amount: dcc('5.000000001') })).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
      message: 'the faucet mints at most 5 DCC at a time, not 5.000000001',
    });
    for (const amount of [0n, -5n, 1.5 as unknown as bigint]) {
      await expect(mint().execute({ to, amount })).rejects.toMatchObject({ code: DcpErrorCode.EINVAL });
    }
    await expect(mint().execute({ to: 'system:issuance', amount: 1n })).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
    });
    expect(await ctx.store.snapshot()).toEqual(before);
  });
});
