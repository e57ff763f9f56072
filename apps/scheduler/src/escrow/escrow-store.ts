import type { PrismaDb } from '@dcp-emu/db';
import type { OwedPayments } from '../state/owed-payments';

/** A job's escrow as stored (amounts are exact decimal DCC strings). */
export interface EscrowRecord {
  jobId: string;
  paymentAccount: string;
  holdId: string | null;
  perSlice: string;
  commissionRate: string;
  commissionTo: string;
  fundedSlices: number;
  shortSince: Date | null;
  shortAmount: string | null;
  released: boolean;
}

/** A slice payment owed to a worker, written with its accepted result. */
export interface PaymentRecord {
  jobId: string;
  sliceNumber: number;
  payTo: string;
  amount: string;
  commissionTo: string;
  commission: string;
  worker: string;
  /** when it was captured or written off (null: still owed) */
  settledAt: Date | null;
  /** the bank's journal transaction; null on a settled row: written off (never paid) */
  transaction: string | null;
}

/**
 * Escrows (table `sched_escrows`, through Prisma: a few rows per job) and the owed slice payments
 * (the job store's memory, journaled to `sched_payments` with its ticks).
 */
export class EscrowStore {
  constructor(
    private readonly prisma: PrismaDb,
    private readonly owed: OwedPayments,
  ) {}

  async get(jobId: string): Promise<EscrowRecord | undefined> {
    return (await this.prisma.schedEscrow.findUnique({ where: { jobId } })) ?? undefined;
  }

  async create(
    record: Omit<EscrowRecord, 'shortSince' | 'shortAmount' | 'released'>,
    now: Date,
  ): Promise<void> {
    await this.prisma.schedEscrow.upsert({
      where: { jobId: record.jobId },
      create: { ...record, updatedAt: now },
      update: {},
    });
  }

  async update(
    jobId: string,
    data: Partial<Omit<EscrowRecord, 'jobId' | 'paymentAccount'>>,
    now: Date,
  ): Promise<void> {
    await this.prisma.schedEscrow.update({ where: { jobId }, data: { ...data, updatedAt: now } });
  }

  /** Escrows waiting for funds. */
  async short(): Promise<EscrowRecord[]> {
    return this.prisma.schedEscrow.findMany({ where: { shortSince: { not: null }, released: false } });
  }

  /** Open escrows of jobs that are no longer running (candidates for release). */
  async unreleasedOfEndedJobs(): Promise<EscrowRecord[]> {
    const open = await this.prisma.schedEscrow.findMany({
      where: { released: false, holdId: { not: null } },
    });
    if (open.length === 0) return [];
    const ended = await this.prisma.schedJob.findMany({
      where: { id: { in: open.map((e) => e.jobId) }, status: { not: 'running' } },
      select: { id: true },
    });
    const endedIds = new Set(ended.map((j) => j.id));
    return open.filter((e) => endedIds.has(e.jobId));
  }

  /** Owed payments, oldest first: of one job, or of every job but `notJobs`. */
  async unsettled(
    limit: number,
    filter: { jobId?: string; notJobs?: string[] } = {},
  ): Promise<PaymentRecord[]> {
    return this.owed.list(limit, filter);
  }

  /** Marks payments captured by the bank, with their journal transactions (written with the next tick). */
  async settledMany(
    payments: ReadonlyArray<{ jobId: string; sliceNumber: number; transaction: string }>,
    now: Date,
  ): Promise<number> {
    return this.owed.settle(payments, now.getTime());
  }

  /**
   * Writes off what the jobs still owe (their hold is released or unknown to the bank: nothing can
   * be captured any more): marked settled without a transaction. Returns how many.
   */
  async writeOff(jobIds: readonly string[], now: Date): Promise<number> {
    return this.owed.writeOff(jobIds, now.getTime());
  }

  async payments(jobId: string): Promise<PaymentRecord[]> {
    return this.prisma.schedPayment.findMany({ where: { jobId }, orderBy: { sliceNumber: 'asc' } });
  }
}
