import { isTransientDbError } from '@dcp-emu/db';
import { type Logger, systemClock } from '@dcp-emu/protocol/node';

/** A job as `sched_jobs` holds it (times in ms). */
export interface JobRow {
  id: string;
  owner: string;
  paymentAccount: string;
  generation: number;
  status: string;
  inputClosed: boolean;
  inputKind: string;
  rangeJson: string | null;
  nextRangeSlice: number;
  sliceCount: number;
  completedCount: number;
  errorCount: number;
  workFunctionUri: string;
  argumentsJson: string;
  requirementsJson: string;
  publicJson: string;
  optionsJson: string;
  absolutePayment: number;
  mvMultiplier: number;
  sliceCpuMs: number;
  sliceCpuDensity: number;
  measuredSlices: number;
  cpuMs: number;
  gpuMs: number;
  bytesIn: number;
  bytesOut: number;
  cancelReason: string | null;
  cancelCode: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** An accepted result (`sched_slices` row, done). */
export interface ResultRow {
  jobId: string;
  sliceNumber: number;
  /** the job value {string, method, MIMEType} as JSON text */
  result: string;
  isError: boolean;
  worker: string;
  paymentAddress: string;
  cpuMs: number;
  gpuMs: number;
  bytesIn: number;
  bytesOut: number;
  completedAt: number;
  /** times the slice was handed out */
  attempts: number;
  /** failed attempts of the slice so far (an error result counts) */
  errors: number;
  lastError: string | null;
}

export interface PaymentRow {
  jobId: string;
  sliceNumber: number;
  payTo: string;
  amount: string;
  commissionTo: string;
  commission: string;
  worker: string;
  createdAt: number;
}

export interface EventRow {
  seq: number;
  jobId: string;
  name: string;
  dataJson: string;
  createdAt: number;
}

/** What one tick changed; applied as one transaction, in this order. */
export interface JournalBatch {
  /** inserted, or updated to these values */
  jobs: JobRow[];
  /** array inputs of new slices */
  inputs: { jobId: string; sliceNumber: number; input: string | null }[];
  results: ResultRow[];
  /** failed attempts of slices that are not done */
  failures: { jobId: string; sliceNumber: number; errors: number; lastError: string }[];
  payments: PaymentRow[];
  /** owed payments the bank captured (with its journal transaction) */
  settled: { jobId: string; sliceNumber: number; transaction: string; at: number }[];
  /** jobs whose owed payments are written off (their hold cannot pay them any more) */
  writtenOff: { jobId: string; at: number }[];
  events: EventRow[];
  delivered: number[];
}

/** The database side of the journal: applies one batch in one transaction (SQLite or PostgreSQL). */
export interface JournalDb {
  apply(batch: JournalBatch): Promise<void>;
  close(): Promise<void>;
}

function emptyBatch(): JournalBatch {
  return {
    jobs: [],
    inputs: [],
    results: [],
    failures: [],
    payments: [],
    settled: [],
    writtenOff: [],
    events: [],
    delivered: [],
  };
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit of the scheduler's state. The hot state changes in memory and records each change
 * here; everything recorded during one event-loop turn is written in ONE transaction (with the
 * database adapter's prepared statements). `commit()` resolves once what was recorded before it is
 * durable: results are acknowledged to workers, submits to clients, only then. A busy or briefly
 * unreachable database only delays the flush (retried with back-off, logged as a warning); it never
 * fails a slice.
 */
export class Journal {
  #batch = emptyBatch();
  #jobs = new Map<string, () => JobRow>();
  #waiters: Waiter[] = [];
  #running?: Promise<void>;
  #scheduled = false;
  #closed = false;
  /** told of every batch written, with how long its transaction took (the /metrics module) */
  observer?: (batch: JournalBatch, ms: number) => void;

  constructor(
    private readonly db: JournalDb,
    private readonly logger: Logger,
    private readonly maxBackoffMs = 1_000,
  ) {}

  /** The job row changed (or is new): written as it is at flush time. */
  job(id: string, row: () => JobRow): void {
    this.#jobs.set(id, row);
    this.#schedule();
  }

  inputs(rows: JournalBatch['inputs']): void {
    for (const r of rows) this.#batch.inputs.push(r);
    this.#schedule();
  }

  result(row: ResultRow): void {
    this.#batch.results.push(row);
    this.#schedule();
  }

  failure(row: JournalBatch['failures'][number]): void {
    this.#batch.failures.push(row);
    this.#schedule();
  }

  payment(row: PaymentRow): void {
    this.#batch.payments.push(row);
    this.#schedule();
  }

  settled(row: JournalBatch['settled'][number]): void {
    this.#batch.settled.push(row);
    this.#schedule();
  }

  writtenOff(row: JournalBatch['writtenOff'][number]): void {
    this.#batch.writtenOff.push(row);
    this.#schedule();
  }

  event(row: EventRow): void {
    this.#batch.events.push(row);
    this.#schedule();
  }

  delivered(seq: number): void {
    this.#batch.delivered.push(seq);
    this.#schedule();
  }

  /** Resolves once everything recorded so far is committed. */
  commit(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the scheduler journal is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  /** Write everything recorded so far, then stop accepting commits (shutdown, state restore). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.db.close();
  }

  /** Write everything recorded so far. */
  async flush(): Promise<void> {
    if (this.#pendingWork()) await this.commit();
    while (this.#running) await this.#running;
  }

  #pendingWork(): boolean {
    const b = this.#batch;
    return (
      this.#jobs.size > 0 ||
      this.#waiters.length > 0 ||
      b.inputs.length +
        b.results.length +
        b.failures.length +
        b.payments.length +
        b.events.length +
        b.delivered.length >
        0
    );
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#running ??= this.#loop().finally(() => {
        this.#running = undefined;
        if (this.#pendingWork()) this.#schedule();
      });
    });
  }

  async #loop(): Promise<void> {
    while (this.#pendingWork()) {
      const batch = this.#batch;
      this.#batch = emptyBatch();
      for (const row of this.#jobs.values()) batch.jobs.push(row());
      this.#jobs.clear();
      const waiters = this.#waiters;
      this.#waiters = [];
      try {
        await this.#apply(batch);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
      // let the next tick's work gather while this one was written
      await new Promise((r) => setImmediate(r));
    }
  }

  async #apply(batch: JournalBatch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const started = performance.now();
        await this.db.apply(batch);
        this.observer?.(batch, performance.now() - started);
        if (attempt > 0)
          this.logger.info({ attempts: attempt + 1 }, 'scheduler journal written after retries');
        return;
      } catch (error) {
        if (!isTransientDbError(error)) {
          this.logger.error({ err: error }, 'scheduler journal write failed');
          throw error;
        }
        if (attempt === 0 || attempt % 20 === 0)
          this.logger.warn({ err: String(error), attempt }, 'database busy: scheduler journal retrying');
        await new Promise((r) =>
          systemClock.setTimeout(() => r(undefined), Math.min(this.maxBackoffMs, 5 * 2 ** attempt)),
        );
      }
    }
  }
}
