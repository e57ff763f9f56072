import { Identity } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { createBankLedger } from '../accounts/bank-ledger';
import { dcc } from '../ledger/amount';
import { MemoryLedgerStore } from '../ledger/memory-store';
import { JobTrailUseCase } from './job-trail.usecase';

describe('JobTrailUseCase', () => {
  it('sums escrow (holds + increases), worker pay, commission and refunds of one job only', async () => {
    const store = new MemoryLedgerStore();
    const bank = createBankLedger({ store });
    const payer = Identity.random().address;
    const [w1, w2, house] = [Identity.random().address, Identity.random().address, Identity.random().address];
    await bank.mint.execute({ to: payer, amount: dcc('100') });
    const { hold } = await bank.hold.execute({ account: payer, amount: dcc('10'), refs: { job: 'job-a' } });
    await bank.increaseHold.execute(hold.id, dcc('5'), 'job-a:escrow:2');
    await bank.capture.execute(
      hold.id,
      { to: w1, amount: dcc('3'), commission: { to: house, amount: dcc('0.3') }, slice: 1 },
      'job-a:1',
    );
    await bank.capture.execute(hold.id, { to: w2, amount: dcc('4'), slice: 2 }, 'job-a:2');
    await bank.release.execute(hold.id);
    // another job's money and a plain transfer stay out of the trail
    const other = await bank.hold.execute({ account: payer, amount: dcc('1'), refs: { job: 'job-b' } });
    await bank.transfer.execute({ from: payer, to: w1, amount: dcc('1') });

    const trail = await new JobTrailUseCase({ store }).execute('job-a');
    expect(trail).toMatchObject({
      job: 'job-a',
      escrowed: dcc('15'),
      paid: dcc('7'),
      commission: dcc('0.3'),
      refunded: dcc('7.7'),
    });
    expect(trail.steps.map((s) => s.kind)).toEqual(['escrow', 'escrow', 'payment', 'payment', 'refund']);
    expect(trail.holds.map((h) => [h.id, h.status])).toEqual([[hold.id, 'released']]);
    expect(trail.escrowed).toBe(trail.paid + trail.commission + trail.refunded);

    const open = await new JobTrailUseCase({ store }).execute('job-b');
    expect(open).toMatchObject({ escrowed: dcc('1'), paid: 0n, refunded: 0n });
    expect(open.holds[0]?.id).toBe(other.hold.id);
  });

  it('ENOENT for a job without money movements, EINVAL for an empty reference', async () => {
    const trail = new JobTrailUseCase({ store: new MemoryLedgerStore() });
    await expect(trail.execute('nothing-here')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(trail.execute('')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
