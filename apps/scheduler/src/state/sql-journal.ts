import { type DatabaseLocation, searchPathOptions } from '@dcp-emu/db';
import type { JobRow, JournalBatch, JournalDb } from './journal';

const JOB_COLUMNS = [
  'id',
  'owner',
  'paymentAccount',
  'generation',
  'status',
  'inputClosed',
  'inputKind',
  'rangeJson',
  'nextRangeSlice',
  'sliceCount',
  'completedCount',
  'errorCount',
  'workFunctionUri',
  'argumentsJson',
  'requirementsJson',
  'publicJson',
  'optionsJson',
  'absolutePayment',
  'mvMultiplier',
  'sliceCpuMs',
  'sliceCpuDensity',
  'measuredSlices',
  'cpuMs',
  'gpuMs',
  'bytesIn',
  'bytesOut',
  'cancelReason',
  'cancelCode',
  'createdAt',
  'updatedAt',
  'finishedAt',
] as const satisfies readonly (keyof JobRow)[];

/** Columns a job changes after it was inserted. */
const JOB_MUTABLE = JOB_COLUMNS.filter(
  (c) =>
    ![
      'id',
      'owner',
      'paymentAccount',
      'generation',
      'inputKind',
      'rangeJson',
      'workFunctionUri',
      'argumentsJson',
      'requirementsJson',
      'publicJson',
      'absolutePayment',
      'mvMultiplier',
      'createdAt',
    ].includes(c),
);

const RESULT_COLUMNS = [
  'jobId',
  'sliceNumber',
  'status',
  'result',
  'resultIsError',
  'worker',
  'paymentAddress',
  'cpuMs',
  'gpuMs',
  'bytesIn',
  'bytesOut',
  'completedAt',
  'attempts',
  'errors',
  'lastError',
];

const q = (c: string) => `"${c}"`;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * SQLite: one better-sqlite3 connection of the journal's own, prepared statements made once and
 * reused, each batch one synchronous transaction (no await inside, so the write lock is never held
 * across the event loop). `synchronous = NORMAL` in WAL mode: a committed tick survives a killed
 * process; only an OS crash may lose the last ticks.
 */
export async function sqliteJournalDb(file: string): Promise<JournalDb> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // never block the event loop waiting for another connection's lock: the journal retries instead
  db.pragma('busy_timeout = 0');
  const upsertJob = db.prepare(
    `INSERT INTO sched_jobs (${JOB_COLUMNS.map(q).join(', ')}) VALUES (${JOB_COLUMNS.map((c) => `@${c}`).join(', ')})
     ON CONFLICT(id) DO UPDATE SET ${JOB_MUTABLE.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`,
  );
  const insertInput = db.prepare(
    `INSERT INTO sched_slices ("jobId", "sliceNumber", status, input) VALUES (?, ?, 'queued', ?)
     ON CONFLICT("jobId", "sliceNumber") DO NOTHING`,
  );
  const upsertResult = db.prepare(
    `INSERT INTO sched_slices (${RESULT_COLUMNS.map(q).join(', ')}) VALUES (${RESULT_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT("jobId", "sliceNumber") DO UPDATE SET status = 'done', result = excluded.result,
       "resultIsError" = excluded."resultIsError", worker = excluded.worker, "paymentAddress" = excluded."paymentAddress",
       "cpuMs" = excluded."cpuMs", "gpuMs" = excluded."gpuMs", "bytesIn" = excluded."bytesIn", "bytesOut" = excluded."bytesOut",
       "completedAt" = excluded."completedAt", attempts = excluded.attempts, errors = excluded.errors,
       "lastError" = COALESCE(excluded."lastError", sched_slices."lastError")`,
  );
  const upsertFailure = db.prepare(
    `INSERT INTO sched_slices ("jobId", "sliceNumber", status, errors, "lastError") VALUES (?, ?, 'queued', ?, ?)
     ON CONFLICT("jobId", "sliceNumber") DO UPDATE SET errors = excluded.errors, "lastError" = excluded."lastError"`,
  );
  const insertPayment = db.prepare(
    `INSERT INTO sched_payments ("jobId", "sliceNumber", "payTo", amount, "commissionTo", commission, worker, "createdAt")
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT("jobId", "sliceNumber") DO NOTHING`,
  );
  const settlePayment = db.prepare(
    `UPDATE sched_payments SET "settledAt" = ?, "transaction" = ? WHERE "jobId" = ? AND "sliceNumber" = ? AND "settledAt" IS NULL`,
  );
  const writeOffPayments = db.prepare(
    `UPDATE sched_payments SET "settledAt" = ?, "transaction" = NULL WHERE "jobId" = ? AND "settledAt" IS NULL`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO sched_events (seq, "jobId", name, "dataJson", delivered, "createdAt") VALUES (?, ?, ?, ?, 0, ?)`,
  );
  const markDelivered = db.prepare('UPDATE sched_events SET delivered = 1 WHERE seq = ?');

  const write = db.transaction((b: JournalBatch) => {
    for (const j of b.jobs)
      upsertJob.run({
        ...j,
        inputClosed: j.inputClosed ? 1 : 0,
        createdAt: iso(j.createdAt),
        updatedAt: iso(j.updatedAt),
        finishedAt: iso(j.finishedAt),
      });
    for (const i of b.inputs) insertInput.run(i.jobId, i.sliceNumber, i.input);
    for (const r of b.results)
      upsertResult.run(
        r.jobId,
        r.sliceNumber,
        'done',
        r.result,
        r.isError ? 1 : 0,
        r.worker,
        r.paymentAddress,
        r.cpuMs,
        r.gpuMs,
        r.bytesIn,
        r.bytesOut,
        iso(r.completedAt),
        r.attempts,
        r.errors,
        r.lastError,
      );
    for (const f of b.failures) upsertFailure.run(f.jobId, f.sliceNumber, f.errors, f.lastError);
    for (const p of b.payments)
      insertPayment.run(
        p.jobId,
        p.sliceNumber,
        p.payTo,
        p.amount,
        p.commissionTo,
        p.commission,
        p.worker,
        iso(p.createdAt),
      );
    for (const p of b.settled) settlePayment.run(iso(p.at), p.transaction, p.jobId, p.sliceNumber);
    for (const w of b.writtenOff) writeOffPayments.run(iso(w.at), w.jobId);
    for (const e of b.events) insertEvent.run(e.seq, e.jobId, e.name, e.dataJson, iso(e.createdAt));
    for (const seq of b.delivered) markDelivered.run(seq);
  });
  return {
    async apply(batch) {
      write.immediate(batch);
    },
    async close() {
      db.close();
    },
  };
}

/**
 * PostgreSQL: a connection of the journal's own; each batch one transaction of set-based statements
 * (one multi-row statement per kind of change, rows passed as arrays and expanded with `unnest`).
 */
export async function postgresJournalDb(url: string, schema?: string): Promise<JournalDb> {
  const { default: pg } = await import('pg');
  // the service's schema (one database, a schema per service), as Prisma's connections use it
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    ...(schema ? { options: searchPathOptions(schema) } : {}),
  });
  pool.on('error', () => {}); // a dropped idle connection is replaced on the next batch
  const jobTypes: Record<string, string> = {
    generation: 'int4',
    inputClosed: 'bool',
    nextRangeSlice: 'int4',
    sliceCount: 'int4',
    completedCount: 'int4',
    errorCount: 'int4',
    absolutePayment: 'float8',
    mvMultiplier: 'float8',
    sliceCpuMs: 'float8',
    sliceCpuDensity: 'float8',
    measuredSlices: 'int4',
    cpuMs: 'float8',
    gpuMs: 'float8',
    bytesIn: 'float8',
    bytesOut: 'float8',
    createdAt: 'timestamp(3)',
    updatedAt: 'timestamp(3)',
    finishedAt: 'timestamp(3)',
  };
  const type = (c: string) => jobTypes[c] ?? 'text';
  const upsertJobs = `INSERT INTO sched_jobs (${JOB_COLUMNS.map(q).join(', ')})
    SELECT * FROM unnest(${JOB_COLUMNS.map((c, i) => `$${i + 1}::${type(c)}[]`).join(', ')})
    ON CONFLICT (id) DO UPDATE SET ${JOB_MUTABLE.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  const insertInputs = `INSERT INTO sched_slices ("jobId", "sliceNumber", status, input)
    SELECT j, n, 'queued', i FROM unnest($1::text[], $2::int4[], $3::text[]) AS t(j, n, i)
    ON CONFLICT ("jobId", "sliceNumber") DO NOTHING`;
  const upsertResults = `INSERT INTO sched_slices (${RESULT_COLUMNS.map(q).join(', ')})
    SELECT j, n, 'done', r, e, w, pa, c, g, bi, bo, ca, at, er, le FROM unnest($1::text[], $2::int4[], $3::text[],
      $4::bool[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::timestamp(3)[],
      $12::int4[], $13::int4[], $14::text[]) AS t(j, n, r, e, w, pa, c, g, bi, bo, ca, at, er, le)
    ON CONFLICT ("jobId", "sliceNumber") DO UPDATE SET status = 'done', result = excluded.result,
      "resultIsError" = excluded."resultIsError", worker = excluded.worker, "paymentAddress" = excluded."paymentAddress",
      "cpuMs" = excluded."cpuMs", "gpuMs" = excluded."gpuMs", "bytesIn" = excluded."bytesIn", "bytesOut" = excluded."bytesOut",
      "completedAt" = excluded."completedAt", attempts = excluded.attempts, errors = excluded.errors,
      "lastError" = COALESCE(excluded."lastError", sched_slices."lastError")`;
  const upsertFailures = `INSERT INTO sched_slices ("jobId", "sliceNumber", status, errors, "lastError")
    SELECT j, n, 'queued', e, l FROM unnest($1::text[], $2::int4[], $3::int4[], $4::text[]) AS t(j, n, e, l)
    ON CONFLICT ("jobId", "sliceNumber") DO UPDATE SET errors = excluded.errors, "lastError" = excluded."lastError"`;
  const insertPayments = `INSERT INTO sched_payments ("jobId", "sliceNumber", "payTo", amount, "commissionTo", commission, worker, "createdAt")
    SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamp(3)[])
    ON CONFLICT ("jobId", "sliceNumber") DO NOTHING`;
  const settlePayments = `UPDATE sched_payments p SET "settledAt" = t.a, "transaction" = t.x
    FROM unnest($1::text[], $2::int4[], $3::text[], $4::timestamp(3)[]) AS t(j, n, x, a)
    WHERE p."jobId" = t.j AND p."sliceNumber" = t.n AND p."settledAt" IS NULL`;
  const writeOffPayments = `UPDATE sched_payments p SET "settledAt" = t.a, "transaction" = NULL
    FROM unnest($1::text[], $2::timestamp(3)[]) AS t(j, a) WHERE p."jobId" = t.j AND p."settledAt" IS NULL`;
  const insertEvents = `INSERT INTO sched_events (seq, "jobId", name, "dataJson", delivered, "createdAt")
    SELECT s, j, n, d, false, c FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[], $5::timestamp(3)[]) AS t(s, j, n, d, c)`;
  const markDelivered = 'UPDATE sched_events SET delivered = true WHERE seq = ANY($1::int4[])';
  const col = <T, K extends keyof T>(rows: T[], k: K) => rows.map((r) => r[k]);
  // PostgreSQL cannot infer the array type of [] ... the casts above name them; dedupe keys per statement
  const lastByKey = <T>(rows: T[], key: (r: T) => string) => [
    ...new Map(rows.map((r) => [key(r), r])).values(),
  ];

  return {
    async apply(b) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if (b.jobs.length) {
          const rows = lastByKey(b.jobs, (j) => j.id).map((j) => ({
            ...j,
            createdAt: iso(j.createdAt),
            updatedAt: iso(j.updatedAt),
            finishedAt: iso(j.finishedAt),
          }));
          await client.query(
            upsertJobs,
            JOB_COLUMNS.map((c) => col(rows, c)),
          );
        }
        if (b.inputs.length)
          await client.query(insertInputs, [
            col(b.inputs, 'jobId'),
            col(b.inputs, 'sliceNumber'),
            col(b.inputs, 'input'),
          ]);
        if (b.results.length) {
          const r = lastByKey(b.results, (x) => `${x.jobId}\n${x.sliceNumber}`);
          await client.query(upsertResults, [
            col(r, 'jobId'),
            col(r, 'sliceNumber'),
            col(r, 'result'),
            col(r, 'isError'),
            col(r, 'worker'),
            col(r, 'paymentAddress'),
            col(r, 'cpuMs'),
            col(r, 'gpuMs'),
            col(r, 'bytesIn'),
            col(r, 'bytesOut'),
            r.map((x) => iso(x.completedAt)),
            col(r, 'attempts'),
            col(r, 'errors'),
            col(r, 'lastError'),
          ]);
        }
        if (b.failures.length) {
          const f = lastByKey(b.failures, (x) => `${x.jobId}\n${x.sliceNumber}`);
          await client.query(upsertFailures, [
            col(f, 'jobId'),
            col(f, 'sliceNumber'),
            col(f, 'errors'),
            col(f, 'lastError'),
          ]);
        }
        if (b.payments.length) {
          const p = b.payments;
          await client.query(insertPayments, [
            col(p, 'jobId'),
            col(p, 'sliceNumber'),
            col(p, 'payTo'),
            col(p, 'amount'),
            col(p, 'commissionTo'),
            col(p, 'commission'),
            col(p, 'worker'),
            p.map((x) => iso(x.createdAt)),
          ]);
        }
        if (b.settled.length) {
          const p = lastByKey(b.settled, (x) => `${x.jobId}\n${x.sliceNumber}`);
          await client.query(settlePayments, [
            col(p, 'jobId'),
            col(p, 'sliceNumber'),
            col(p, 'transaction'),
            p.map((x) => iso(x.at)),
          ]);
        }
        if (b.writtenOff.length) {
          const w = lastByKey(b.writtenOff, (x) => x.jobId);
          await client.query(writeOffPayments, [col(w, 'jobId'), w.map((x) => iso(x.at))]);
        }
        if (b.events.length) {
          const e = b.events;
          await client.query(insertEvents, [
            col(e, 'seq'),
            col(e, 'jobId'),
            col(e, 'name'),
            col(e, 'dataJson'),
            e.map((x) => iso(x.createdAt)),
          ]);
        }
        if (b.delivered.length) await client.query(markDelivered, [b.delivered]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

export function openJournalDb(location: DatabaseLocation): Promise<JournalDb> {
  return location.provider === 'sqlite'
    ? sqliteJournalDb(location.target)
    : postgresJournalDb(location.target, location.schema);
}
