import type { PrismaDb } from '@dcp-emu/db';

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

/** Persistence of escrows and owed payments (tables `sched_escrows`, `sched_payments`). */
export class EscrowStore {
  constructor(private readonly prisma: PrismaDb) {}

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
    return this.prisma.schedPayment.findMany({
      where: {
        settledAt: null,
        ...(filter.jobId ? { jobId: filter.jobId } : {}),
        ...(filter.notJobs?.length ? { jobId: { notIn: filter.notJobs } } : {}),
      },
      orderBy: [{ createdAt: 'asc' }],
      take: limit,
    });
  }

  /**
   * Marks payments captured by the bank, with their journal transactions, in ONE statement
   * (`UPDATE … FROM (VALUES …)`; SQLite ≥ 3.33 and PostgreSQL). Already settled rows stay as they are.
   */
  async settledMany(
    payments: ReadonlyArray<{ jobId: string; sliceNumber: number; transaction: string }>,
    now: Date,
  ): Promise<number> {
    let count = 0;
    // a few thousand rows per statement: well inside both databases' bound-parameter limits
    for (let i = 0; i < payments.length; i += 5000) {
      const part = payments.slice(i, i + 5000);
      const values: unknown[] = [now];
      const strings = [
        'UPDATE "sched_payments" SET "settledAt" = ',
        ', "transaction" = v.column3 FROM (VALUES (',
      ];
      part.forEach((p, j) => {
        values.push(p.jobId, p.sliceNumber, p.transaction);
        strings.push(
          ', ',
          ', ',
          j + 1 < part.length
            ? '), ('
            : ') ) AS v WHERE "sched_payments"."jobId" = v.column1 AND "sched_payments"."sliceNumber" = CAST(v.column2 AS INTEGER) AND "sched_payments"."settledAt" IS NULL',
        );
      });
      // a tagged-template call: Prisma writes the placeholders of the database in use
      count += await this.prisma.$executeRaw(Object.assign(strings, { raw: strings }), ...values);
    }
    return count;
  }

  /**
   * Writes off what the jobs still owe (their hold is released or unknown to the bank: nothing can
   * be captured any more): marked settled without a transaction. Returns how many.
   */
  async writeOff(jobIds: readonly string[], now: Date): Promise<number> {
    if (jobIds.length === 0) return 0;
    const done = await this.prisma.schedPayment.updateMany({
      where: { jobId: { in: [...jobIds] }, settledAt: null },
      data: { settledAt: now, transaction: null },
    });
    return done.count;
  }

  async settled(jobId: string, sliceNumber: number, transaction: string, now: Date): Promise<void> {
    await this.prisma.schedPayment.update({
      where: { jobId_sliceNumber: { jobId, sliceNumber } },
      data: { settledAt: now, transaction },
    });
  }

  async payments(jobId: string): Promise<PaymentRecord[]> {
    return this.prisma.schedPayment.findMany({ where: { jobId }, orderBy: { sliceNumber: 'asc' } });
  }
}
