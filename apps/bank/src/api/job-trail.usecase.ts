import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { JournalTransaction } from '../ledger/journal';
import type { LedgerStore } from '../ledger/store';
import type { Hold } from '../ledger/hold';

export type TrailStepKind = 'escrow' | 'payment' | 'refund';

export interface JobTrail {
  readonly job: string;
  /** base units put into escrow (holds and their increases) */
  readonly escrowed: bigint;
  /** base units paid to workers by captures */
  readonly paid: bigint;
  /** base units of commission taken by captures */
  readonly commission: bigint;
  /** base units given back to the payer by releases */
  readonly refunded: bigint;
  readonly holds: Hold[];
  /** oldest first */
  readonly steps: { readonly kind: TrailStepKind; readonly transaction: JournalTransaction }[];
}

const KIND: Partial<Record<JournalTransaction['reason'], TrailStepKind>> = {
  hold: 'escrow',
  'hold-increase': 'escrow',
  capture: 'payment',
  release: 'refund',
};

/** The amount a transaction moved out of (or, for escrows, into) its hold book. */
function holdMovement(t: JournalTransaction): bigint {
  let sum = 0n;
  for (const p of t.postings) if (p.book.kind === 'hold') sum += p.amount;
  return sum < 0n ? -sum : sum;
}

/**
 * A capture's commission, from its canonical request text
 * (`capture|<hold>|<to>|<amount>|<commission to>|<commission amount>|<slice>`, or `-` for none).
 */
function captureCommission(t: JournalTransaction): bigint {
  const parts = t.fingerprint.split('|');
  if (parts[0] !== 'capture' || parts[4] === '-' || parts[5] === undefined) return 0n;
  return /^\d+$/.test(parts[5]) ? BigInt(parts[5]) : 0n;
}

/**
 * The money trail of one job from the journal references: escrow (holds, increases) → payments
 * (captures, split into worker pay and commission) → refund (release). ENOENT if the journal has
 * nothing for the job.
 */
export class JobTrailUseCase {
  constructor(private readonly deps: { readonly store: LedgerStore }) {}

  async execute(job: string): Promise<JobTrail> {
    if (job.length === 0 || job.length > 256)
      throw new DcpError(DcpErrorCode.EINVAL, 'invalid job reference');
    const transactions = await this.deps.store.jobTransactions(job);
    if (transactions.length === 0)
      throw new DcpError(DcpErrorCode.ENOENT, `the bank has no money movements for job ${job}`, { job });
    let escrowed = 0n;
    let paid = 0n;
    let commission = 0n;
    let refunded = 0n;
    const steps: JobTrail['steps'][number][] = [];
    const holdIds = new Set<string>();
    for (const t of transactions) {
      const kind = KIND[t.reason];
      if (!kind) continue;
      if (t.refs.hold) holdIds.add(t.refs.hold);
      const moved = holdMovement(t);
      if (kind === 'escrow') escrowed += moved;
      else if (kind === 'refund') refunded += moved;
      else {
        const c = captureCommission(t);
        commission += c;
        paid += moved - c;
      }
      steps.push({ kind, transaction: t });
    }
    const holds: Hold[] = [];
    for (const id of holdIds) {
      const hold = await this.deps.store.getHold(id as Hold['id']);
      if (hold) holds.push(hold);
    }
    return { job, escrowed, paid, commission, refunded, holds, steps };
  }
}
