import { Identity, signPersonal, getDefaultCrypto } from '@dcp-emu/protocol';
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { createBankLedger } from '../accounts/bank-ledger';
import { dcc } from '../ledger/amount';
import { MemoryLedgerStore } from '../ledger/memory-store';
import { auditLedger } from '../ledger/invariants';
import { SignedTransferUseCase, type TransferIntent, transferMessage } from './signed-transfer';

async function setup() {
  const store = new MemoryLedgerStore();
  const bank = createBankLedger({ store });
  const payer = Identity.random();
  const payee = Identity.random();
  await bank.mint.execute({ to: payer.address, amount: dcc('10') });
  return { store, bank, payer, payee, signed: new SignedTransferUseCase(bank.transfer) };
}

const balanceOf = async (bank: Awaited<ReturnType<typeof setup>>['bank'], a: string) =>
  (await bank.store.getAccount(a.toLowerCase() as never))?.balance ?? 0n;

describe('SignedTransferUseCase', () => {
  it('the canonical message is JSON of {type, from, to, amount, nonce} in that order', () => {
    const intent: TransferIntent = { from: '0xA', to: '0xB', amount: '1.5', nonce: 'n-00000001' };
    expect(transferMessage(intent)).toBe(
      '{"type":"dcp-emu/bank/transfer@1","from":"0xA","to":"0xB","amount":"1.5","nonce":"n-00000001"}',
    );
  });

  it('moves money when the source signs (DCP {r,s,v} form), and a replay never pays twice', async () => {
    const { bank, payer, payee, signed } = await setup();
    const intent = { from: payer.address, to: payee.address, amount: '2.25', nonce: 'nonce-0001' };
    const sig = payer.sign(transferMessage(intent));
    const first = await signed.execute(intent, sig);
    expect(first.replayed).toBe(false);
    const again = await signed.execute(intent, sig);
    expect(again.replayed).toBe(true);
    expect(again.transaction.id).toBe(first.transaction.id);
    expect(await balanceOf(bank, payer.address)).toBe(dcc('7.75'));
    expect(await balanceOf(bank, payee.address)).toBe(dcc('2.25'));
  });

  it('accepts an ethers signMessage hex signature', async () => {
    const { bank, payee, signed } = await setup();
    const wallet = Wallet.createRandom();
    await bank.mint.execute({ to: wallet.address, amount: dcc('3') });
    const intent = { from: wallet.address, to: payee.address, amount: '1', nonce: 'ethers-nonce-1' };
    await signed.execute(intent, await wallet.signMessage(transferMessage(intent)));
    expect(await balanceOf(bank, wallet.address)).toBe(dcc('2'));
  });

  it('refuses signatures by another key or over other values (EPERM), the same nonce for another transfer (EDUP), ledger unchanged', async () => {
    const { store, bank, payer, payee, signed } = await setup();
    const intent = { from: payer.address, to: payee.address, amount: '1', nonce: 'nonce-forged' };
    await expect(signed.execute(intent, payee.sign(transferMessage(intent)))).rejects.toMatchObject({
      code: 'EPERM',
    });
    const other = { ...intent, amount: '9' };
    await expect(signed.execute(other, payer.sign(transferMessage(intent)))).rejects.toMatchObject({
      code: 'EPERM',
    });
    await expect(signed.execute(intent, { r: 'zz', s: 1, v: 99 })).rejects.toMatchObject({ code: 'EPERM' });
    await expect(
      signed.execute(
        { ...intent, amount: '-1' },
        signPersonal(getDefaultCrypto(), new Uint8Array(32).fill(1), 'x'),
      ),
    ).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await balanceOf(bank, payer.address)).toBe(dcc('10'));
    await signed.execute(intent, payer.sign(transferMessage(intent)));
    const reused = { ...intent, amount: '2' };
    await expect(signed.execute(reused, payer.sign(transferMessage(reused)))).rejects.toMatchObject({
      code: 'EDUP',
    });
    expect(await balanceOf(bank, payer.address)).toBe(dcc('9'));
    expect(auditLedger(await store.snapshot()).problems).toEqual([]);
  });

  it('ENOFUNDS when the source cannot cover the amount', async () => {
    const { bank, payer, payee, signed } = await setup();
    const intent = { from: payer.address, to: payee.address, amount: '10.000000001', nonce: 'nonce-broke' };
    await expect(signed.execute(intent, payer.sign(transferMessage(intent)))).rejects.toMatchObject({
      code: 'ENOFUNDS',
    });
    expect(await balanceOf(bank, payer.address)).toBe(dcc('10'));
  });
});
