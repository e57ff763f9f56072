import { DcpError, DcpErrorCode, type Envelope, type Kvin, kvinFor, open } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { jobStatusReport } from '../pheme/job-report.usecase';

/**
 * The scheduler's "jnu" database service (`dcpConfig.scheduler.services.jnu`): DCP's signed-POST
 * database API that dcp-client 5.x uses for `compute.getJobInfo(id)` (a `jobs` row) and for managed
 * workers (`dcp/worker`, e.g. examples/nodejs/simple-worker.js: `w$workerConfigValue`,
 * `w$workerRunInfo`, `w$workerTaskInfo`).
 *
 * Wire format (dcp-client's jnu/index.js and utils/submit-post.js): `POST <jnu>/<method>` with the
 * JSON of a signed message `{owner, signature, body: {expiry, endpoint, queryKVINv9, options}}`
 * (`expiry` in seconds of our clock, learnt from `GET <jnu>/time` → `{success, now}`); the answer is
 * `application/json`, `{success: true, …}` or `{success: false, error: {message, code}}`.
 * `schema` answers `{schemaKVIN}`: the tables and column types, one shared object per column type
 * (dcp-client checks `tables.jobs.id === columnTypes.autoId === tables.jobResults.id`); `select`
 * answers `{resultsHeaderKVIN}` = KVIN `{rowCount, firstRow, remainingRows}`; changes answer `{result}`.
 *
 * What is served, honestly: `jobs` — the signer's own jobs (as owner or payer), as the inspection
 * API reports them; `w$workerConfigValue` — no rows (nothing configures workers remotely here);
 * `w$workerRunInfo` / `w$workerTaskInfo` — what the signer's workers wrote, kept in memory while the
 * scheduler runs (change / changeOrAdd / add). Every other table is unknown (ENOENT), and `jobs`
 * cannot be written (EPERM).
 */

/** The body of a jnu request, inside the signed message. */
export const jnuBodySchema = z
  .object({
    expiry: z.number(),
    endpoint: z.string().min(1),
    queryKVINv9: z.unknown().optional(),
    options: z.record(z.string(), z.unknown()).nullish(),
  })
  .loose();

const querySchema = z
  .object({
    table: z.string().min(1),
    prototype: z.record(z.string(), z.unknown()),
    limit: z.number().int().nonnegative().optional(),
    skip: z.number().int().nonnegative().optional(),
    order: z.array(z.record(z.string(), z.string())).optional(),
  })
  .loose();
type Query = z.infer<typeof querySchema>;

export const JNU_METHODS = ['schema', 'select', 'change', 'add', 'delete'] as const;
export type JnuMethod = (typeof JNU_METHODS)[number];

/** A column type of the schema: instances are shared between the tables that use the type. */
class ColumnType {
  constructor(
    readonly name: string,
    readonly primaryKey = false,
  ) {}
}

function schema(): Record<string, unknown> {
  const t = {
    autoId: new ColumnType('autoId', true),
    opaqueId: new ColumnType('opaqueId'),
    address: new ColumnType('address'),
    string: new ColumnType('string'),
    number: new ColumnType('number'),
    date: new ColumnType('date'),
    json: new ColumnType('json'),
    workerOpaqueId: new ColumnType('workerOpaqueId', true),
  };
  const jobs = {
    id: t.autoId,
    opaqueId: t.opaqueId,
    owner: t.address,
    paymentAccount: t.address,
    status: t.string,
    name: t.string,
    description: t.string,
    link: t.string,
    totalSlices: t.number,
    completedSlices: t.number,
    deployTime: t.date,
    finishedTime: t.date,
  };
  return {
    tables: {
      jobs,
      jobResults: { id: t.autoId, job: t.opaqueId, sliceNumber: t.number, value: t.json },
      w$workerConfigValue: {
        id: t.autoId,
        workerOpaqueId: t.opaqueId,
        keyPath: t.string,
        value: t.json,
      },
      w$workerRunInfo: { workerOpaqueId: t.workerOpaqueId, status: t.string, earningsAccount: t.address },
      w$workerTaskInfo: { id: t.autoId, workerOpaqueId: t.opaqueId, serial: t.number, taskTime: t.date },
    },
    columnTypes: t,
    classes: {},
    serializers: {},
  };
}

/** dcp-client's BigNumber (bignumber.js) as it travels in KVIN (`{s, e, c}`): read as a decimal. */
class BigNumber {
  s?: number;
  e?: number;
  c?: number[];

  toString(): string {
    const { s = 1, e = 0, c = [0] } = this;
    // bignumber.js: c holds base-1e14 digit groups, e the decimal exponent of the first digit
    const digits = c.map((d, i) => (i === 0 ? String(d) : String(d).padStart(14, '0'))).join('');
    const point = e + 1;
    const body =
      point <= 0
        ? `0.${'0'.repeat(-point)}${digits}`
        : point >= digits.length
          ? digits + '0'.repeat(point - digits.length)
          : `${digits.slice(0, point)}.${digits.slice(point)}`;
    const trimmed = body.includes('.') ? body.replace(/0+$/, '').replace(/\.$/, '') : body;
    return (s < 0 ? '-' : '') + trimmed;
  }

  toJSON(): string {
    return this.toString();
  }
}

type Row = Record<string, unknown>;

export class JnuDatabase {
  /** the signed messages' KVIN (v9), reading dcp-client's BigNumber too */
  readonly #kvin: Kvin;
  /** worker rows by table, `${signer}\n${workerOpaqueId}` → row (w$workerRunInfo: one per worker) */
  readonly #workerRows = new Map<string, Map<string, Row[]>>();
  readonly #schemaKvin = kvinFor(5).marshal(schema());

  constructor(private readonly ctx: SchedulerContext) {
    const Ctor = (kvinFor(5) as unknown as { constructor: new () => Kvin }).constructor;
    this.#kvin = new Ctor();
    this.#kvin.userCtors = { ...kvinFor(5).userCtors, BigNumber };
  }

  /** `GET <jnu>/time`: our clock, for dcp-client's expiry adjustment. */
  time(): { success: true; now: number } {
    return { success: true, now: this.ctx.clock.now() };
  }

  /** One signed request (the raw JSON body as it arrived). */
  async execute(method: JnuMethod, raw: string): Promise<Record<string, unknown>> {
    const envelope = open(raw) as Envelope<unknown>;
    const body = jnuBodySchema.safeParse(envelope.body);
    if (!body.success) throw new DcpError(DcpErrorCode.EINVAL, 'invalid jnu request body');
    const { expiry, endpoint } = body.data;
    if (expiry * 1000 < this.ctx.clock.now())
      throw new DcpError(DcpErrorCode.EEXPIRED, 'jnu request has expired');
    if (!new URL(endpoint, 'http://x/').pathname.endsWith(`/jnu/${method}`))
      throw new DcpError(DcpErrorCode.EINVAL, `jnu request for ${endpoint} sent to ${method}`);
    const signer = envelope.owner.toLowerCase();
    if (method === 'schema') return { schemaKVIN: this.#schemaKvin };

    let query: Query;
    try {
      query = querySchema.parse(this.#kvin.unmarshal(structuredClone(body.data.queryKVINv9)));
    } catch {
      throw new DcpError(DcpErrorCode.EINVAL, `unreadable ${method} query`);
    }
    const variant = String(body.data.options?.variant ?? method);
    this.ctx.logger.debug({ method, variant, table: query.table, signer }, 'jnu request');
    if (method === 'select') {
      if (variant !== 'select') throw new DcpError(DcpErrorCode.EINVAL, `jnu ${variant} is not supported`);
      const rows = await this.#select(query, signer);
      const [firstRow, ...remainingRows] = rows;
      return {
        resultsHeaderKVIN: kvinFor(5).marshal({ rowCount: rows.length, firstRow, remainingRows }),
      };
    }
    return { result: this.#change(method, variant, query, signer) };
  }

  async #select(query: Query, signer: string): Promise<Row[]> {
    const { table, prototype } = query;
    let rows: Row[];
    if (table === 'jobs') rows = await this.#jobs(prototype, signer);
    else if (table === 'w$workerConfigValue') rows = [];
    else if (table === 'w$workerRunInfo' || table === 'w$workerTaskInfo')
      rows = [...this.#tableOf(table).entries()]
        .filter(([key]) => key.startsWith(`${signer}\n`))
        .flatMap(([, r]) => r)
        .filter((r) => matches(r, prototype));
    else throw new DcpError(DcpErrorCode.ENOENT, `no table ${table}`);
    for (const clause of [...(query.order ?? [])].reverse()) {
      const [column, direction] = Object.entries(clause)[0] ?? [];
      if (!column) continue;
      const sign = direction === 'desc' ? -1 : 1;
      rows = [...rows].sort((a, b) => sign * compare(a[column], b[column]));
    }
    return rows.slice(
      query.skip ?? 0,
      query.limit === undefined ? undefined : (query.skip ?? 0) + query.limit,
    );
  }

  async #jobs(prototype: Row, signer: string): Promise<Row[]> {
    const id = prototype.opaqueId ?? prototype.id;
    if (typeof id !== 'string') throw new DcpError(DcpErrorCode.EINVAL, 'jobs are selected by opaqueId');
    const job = await this.ctx.store.getJob(id);
    if (!job) return [];
    // rows the signer may see: jobs it deployed or pays for
    if (job.owner.toLowerCase() !== signer && job.paymentAccount.toLowerCase() !== signer) return [];
    const counts = await this.ctx.store.sliceCounts(job.id);
    return [{ ...jobStatusReport(job, counts), opaqueId: job.id }];
  }

  #tableOf(table: string): Map<string, Row[]> {
    let rows = this.#workerRows.get(table);
    if (!rows) {
      rows = new Map();
      this.#workerRows.set(table, rows);
    }
    return rows;
  }

  #change(method: JnuMethod, variant: string, query: Query, signer: string): number {
    const { table, prototype } = query;
    if (table !== 'w$workerRunInfo' && table !== 'w$workerTaskInfo') {
      if (table === 'jobs' || table === 'jobResults' || table === 'w$workerConfigValue')
        throw new DcpError(DcpErrorCode.EPERM, `${table} is read-only`);
      throw new DcpError(DcpErrorCode.ENOENT, `no table ${table}`);
    }
    const worker = prototype.workerOpaqueId;
    if (typeof worker !== 'string' || !worker)
      throw new DcpError(DcpErrorCode.EINVAL, `${table} rows need a workerOpaqueId`);
    const key = `${signer}\n${worker}`;
    const rows = this.#tableOf(table);
    const existing = rows.get(key) ?? [];
    if (method === 'delete') {
      rows.delete(key);
      return existing.length;
    }
    if (table === 'w$workerRunInfo') {
      // one row per worker: changes merge into it (earnings arrive as a counter `{add: amount}`)
      const row = { ...(existing[0] ?? {}) };
      for (const [column, value] of Object.entries(prototype)) row[column] = merged(row[column], value);
      rows.set(key, [row]);
      return 1;
    }
    // w$workerTaskInfo: one row per (worker, serial), a ring the worker rewrites
    const serial = prototype.serial;
    const others = existing.filter((r) => r.serial !== serial || variant === 'add');
    rows.set(key, [...others, { ...prototype }].slice(-100));
    return 1;
  }
}

function merged(previous: unknown, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'add' in value) {
    const add = Number(String((value as { add: unknown }).add));
    const base = Number(String(previous ?? 0));
    return String((Number.isFinite(base) ? base : 0) + (Number.isFinite(add) ? add : 0));
  }
  return value;
}

function matches(row: Row, prototype: Row): boolean {
  return Object.entries(prototype).every(([column, want]) => {
    if (want && typeof want === 'object' && 'in' in want && Array.isArray((want as { in: unknown }).in))
      return (want as { in: unknown[] }).in.some((v) => (v ?? null) === (row[column] ?? null));
    return String(row[column]) === String(want);
  });
}

function compare(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x ?? '').localeCompare(String(y ?? ''));
}
