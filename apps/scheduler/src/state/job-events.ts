/**
 * A job's reliable events (`stop`, `nofunds`, …): stored through the journal with the job's state,
 * read back while undelivered, marked delivered once the client has them.
 */
import { type PrismaDb, withDbRetry } from '@dcp-emu/db';
import type { StoredEvent } from './job-record';
import type { Journal } from './journal';

export class JobEvents {
  #seq = 0;

  constructor(
    private readonly prisma: PrismaDb,
    private readonly journal: Journal,
  ) {}

  /** Continue the event numbering after the last stored event (start-up, after a restore). */
  async load(): Promise<void> {
    const last = await withDbRetry(() =>
      this.prisma.schedEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } }),
    );
    this.#seq = last?.seq ?? 0;
  }

  /** Store a reliable event (`stop`, `nofunds`) with the job's state; resolves once committed. */
  async add(jobId: string, name: string, data: Record<string, unknown>, now: Date): Promise<StoredEvent> {
    const seq = ++this.#seq;
    this.journal.event({ seq, jobId, name, dataJson: JSON.stringify(data), createdAt: now.getTime() });
    await this.journal.commit();
    return { seq, jobId, name, data };
  }

  async pending(jobId: string): Promise<StoredEvent[]> {
    await this.journal.flush();
    const rows = await withDbRetry(() =>
      this.prisma.schedEvent.findMany({
        where: { jobId, delivered: false },
        orderBy: { seq: 'asc' },
      }),
    );
    return rows.map((r) => ({
      seq: r.seq,
      jobId: r.jobId,
      name: r.name,
      data: JSON.parse(r.dataJson) as Record<string, unknown>,
    }));
  }

  async all(jobId: string): Promise<(StoredEvent & { delivered: boolean; createdAt: Date })[]> {
    const rows = await withDbRetry(() =>
      this.prisma.schedEvent.findMany({ where: { jobId }, orderBy: { seq: 'asc' } }),
    );
    return rows.map((r) => ({
      seq: r.seq,
      jobId: r.jobId,
      name: r.name,
      data: JSON.parse(r.dataJson) as Record<string, unknown>,
      delivered: r.delivered,
      createdAt: r.createdAt,
    }));
  }

  async markDelivered(seq: number): Promise<void> {
    this.journal.delivered(seq);
    await this.journal.commit();
  }
}
