import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import type { AccountId } from '../ledger/account-id';
import { dcc } from '../ledger/amount';
import { auditBridge } from './bridge-audit';
import { BRIDGE_PROVIDERS, randomWallet, signedRequest, useBridge } from './bridge-stores.test';

describe.each(BRIDGE_PROVIDERS)('bridge accounts and chain history (%s)', (provider) => {
  const f = useBridge(provider);

  it('shows both balances; an address neither side knows is zero on both', async () => {
    const fresh = randomWallet();
    expect(await f.bridge.account.execute(fresh.address)).toEqual({
      address: fresh.address.toLowerCase() as AccountId,
      chainBalance: 0n,
      bankBalance: 0n,
    });
    expect(await f.bridge.history.execute(fresh.address)).toEqual([]);
    await expect(f.bridge.account.execute('0xnope')).rejects.toMatchObject({ code: DcpErrorCode.EINVAL });
    await expect(f.bridge.history.execute('system:bridge')).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
    });
  });

  it('pages the chain history newest first with limit and offset, only the address’s own', async () => {
    const owner = randomWallet();
    const other = randomWallet();
    await f.ledger.mint.execute({ to: owner.address, amount: dcc('10') });
    await f.ledger.mint.execute({ to: other.address, amount: dcc('10') });
    for (let i = 1; i <= 5; i++) {
      await f.bridge.withdraw.execute(
        await signedRequest(
          'withdrawal',
          { address: owner.address, amount: String(i / 10), nonce: i },
          owner,
        ),
      );
      await f.bridge.withdraw.execute(
        await signedRequest('withdrawal', { address: other.address, amount: '0.01', nonce: i }, other),
      );
    }
    const all = await f.bridge.history.execute(owner.address);
    expect(all.map((t) => t.nonce)).toEqual(['5', '4', '3', '2', '1']);
    expect(all.every((t, i) => i === 0 || t.blockNumber < all[i - 1]!.blockNumber)).toBe(true);
    const page = await f.bridge.history.execute(owner.address, { limit: 2, offset: 1 });
    expect(page.map((t) => t.nonce)).toEqual(['4', '3']);
    expect(await f.bridge.history.execute(owner.address, { offset: 5 })).toEqual([]);
  });

  it('the audit notices a chain balance that did not come through the bridge', async () => {
    const snapshot = await f.store.snapshot();
    expect(auditBridge(snapshot).problems).toEqual([]);
    const forged = {
      ...snapshot,
      chainAccounts: [
        ...snapshot.chainAccounts,
        { address: randomWallet().address.toLowerCase() as AccountId, balance: 1n },
      ],
    };
    expect(auditBridge(forged).problems.join('\n')).toMatch(/Σ chain balances .* ≠ bridge account/);
  });

  it('re-creates a missing chain head (a state reset empties every table) and keeps numbering blocks', async () => {
    const owner = randomWallet();
    await f.ledger.mint.execute({ to: owner.address, amount: dcc('2') });
    const before = await f.store.snapshot();
    expect(await f.execute('DELETE FROM "bridge_chain_head"')).toBe(1);
    const receipt = await f.bridge.withdraw.execute(
      await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: 'after-reset' }, owner),
    );
    expect(receipt.transaction.blockNumber).toBe(before.height + 1);
    expect(auditBridge(await f.store.snapshot()).problems).toEqual([]);
  });

  it('the database refuses rewriting the chain or a negative chain balance, even in raw SQL', async () => {
    const owner = randomWallet();
    await f.ledger.mint.execute({ to: owner.address, amount: dcc('1') });
    await f.bridge.withdraw.execute(
      await signedRequest('withdrawal', { address: owner.address, amount: '1', nonce: 'raw' }, owner),
    );
    for (const sql of [
      'UPDATE "bridge_chain_transactions" SET "amount" = "amount" * 2',
      'DELETE FROM "bridge_chain_transactions"',
      'UPDATE "bridge_chain_accounts" SET "balance" = -1',
    ]) {
      const before = await f.store.snapshot();
      await expect(f.execute(sql), sql).rejects.toThrow(/append-only|negative|constraint|check/i);
      expect(await f.store.snapshot()).toEqual(before);
    }
  });
});
