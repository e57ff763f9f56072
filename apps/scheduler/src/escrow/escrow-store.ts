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
  settledAt: Date | null;
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

  async unsettled(limit: number, jobId?: string): Promise<PaymentRecord[]> {
    return this.prisma.schedPayment.findMany({
      where: { settledAt: null, ...(jobId ? { jobId } : {}) },
      orderBy: [{ createdAt: 'asc' }],
      take: limit,
    });
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
