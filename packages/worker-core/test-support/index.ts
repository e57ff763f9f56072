import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { z } from 'zod';
import {
  attachDcpTarget,
  type AttachedTarget,
  DcpError,
  DcpErrorCode,
  DcpSession,
  DcpTarget,
  dataUri,
  encodeConfig,
  Identity,
  jobValue,
  OperationRegistry,
  silentLogger,
  unmarshalKvin,
} from '@dcp-emu/protocol/node';

/**
 * A test double of the scheduler's worker-facing side (tests only): a real DcpTarget on loopback
 * with taskDistributor / resultSubmitter / eventRouter / packageManager, the config endpoint, and
 * an HTTP route for job artifacts. It hands out queued slices, takes results, re-queues returned
 * slices, and records every request so tests can check what our worker sent.
 */
export interface TestJob {
  jobId: string;
  workFunction: string;
  /** inline arguments; or served over HTTP when `argumentsOverHttp` */
  arguments?: unknown[];
  argumentsOverHttp?: boolean;
  data: unknown[];
  name?: string;
  dependencies?: string[];
}

export interface RecordedResult {
  jobId: string;
  slice: number;
  value: unknown;
  metrics: Record<string, unknown>;
  paymentAddress: string;
  worker: string;
}

export interface TestScheduler {
  base: string;
  identity: Identity;
  requests: { operation: string; data: Record<string, unknown> }[];
  results: RecordedResult[];
  returns: { jobId: string; sliceNumbers: number[]; reason: string }[];
  begins: { jobId: string; sliceNumber: number }[];
  workEmits: Record<string, unknown>[];
  /** results being answered now, and the most at once (with `resultDelayMs`) */
  inFlight: { results: number; maxResults: number };
  /** SchedMsg subscriber sessions by label */
  subscribers: Map<string, { session: DcpSession; token: string }>;
  /** queue a job's slices; again with the same id and a longer `data`: queue the new ones */
  addJob(job: TestJob): void;
  /** serve a BravoJS module (`<package>/<file>`) through fetchModuleURL */
  addModule(id: string, source: string): void;
  /** waits (bounded) until `pred` holds */
  until(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** push a SchedMsg command to the worker */
  command(command: string, payload?: Record<string, unknown>): Promise<unknown>;
  /** push "work is available" to a worker subscribed to `schedmsg::wake` (false: none is) */
  wake(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startTestScheduler(
  options: {
    slicesPerTask?: number;
    payment?: number;
    /** served as `supervisor.tuning.watchdogInterval` (seconds) */
    watchdogIntervalSeconds?: number;
    /** the first this many `result` requests fail with EINTERNAL (a scheduler in trouble) */
    failResults?: number;
    /** answer each `result` after this long (a slow scheduler) */
    resultDelayMs?: number;
  } = {},
): Promise<TestScheduler> {
  const identity = Identity.random();
  const target = new DcpTarget({ identity, logger: silentLogger });
  const jobs = new Map<string, TestJob>();
  const queue: { jobId: string; sliceNumber: number }[] = [];
  const requests: TestScheduler['requests'] = [];
  const results: RecordedResult[] = [];
  const returns: TestScheduler['returns'] = [];
  const begins: TestScheduler['begins'] = [];
  const workEmits: Record<string, unknown>[] = [];
  const subscribers: TestScheduler['subscribers'] = new Map();
  let failResults = options.failResults ?? 0;
  const inFlight = { results: 0, maxResults: 0 };
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  let base = '';
  const record = (operation: string, data: unknown) => {
    requests.push({ operation, data: data as Record<string, unknown> });
    changed();
  };

  const td = new OperationRegistry().register({
    operation: ['requestTask@3', 'requestTask'],
    schema: z.record(z.string(), z.unknown()),
    handler: (data) => {
      record('requestTask@3', data);
      // a Soteria-only request (no targetLoad) is a heartbeat: its answer is ignored, so never hand out work
      const cpu = (data.targetLoad as { cpu?: number } | undefined)?.cpu;
      if (cpu === undefined) return {};
      const want = Math.max(1, Math.floor(cpu));
      const take = queue.splice(0, options.slicesPerTask ?? want);
      if (take.length === 0) return { owner: identity.address, signature: null, auth: {}, body: {} };
      const newJobs: Record<string, unknown> = {};
      const task: Record<string, unknown[]> = {};
      const authSlices: Record<string, number[]> = {};
      for (const t of take) {
        const job = jobs.get(t.jobId);
        if (!job) continue;
        newJobs[job.jobId] ??= {
          jobId: job.jobId,
          jobCgId: `${job.jobId}-1`,
          address: job.jobId,
          codeLocation: `${base}/wf/${job.jobId}`,
          ...(job.argumentsOverHttp
            ? {
                argumentsLocation: (job.arguments ?? []).map((_, i) => ({
                  value: `${base}/arg/${job.jobId}/${i}`,
                  argIndex: i,
                })),
              }
            : { arguments: job.arguments ?? [] }),
          requirements: { environment: {}, discrete: false },
          dependencies: job.dependencies ?? [],
          requirePath: [],
          modulePath: [],
          public: { name: job.name ?? 'test job' },
          worktime: { name: 'map-basic', version: '1.0.0' },
        };
        task[job.jobId] ??= [];
        task[job.jobId]?.push({
          sliceNumber: t.sliceNumber,
          jobId: job.jobId,
          datumUri: dataUri.encode(job.data[t.sliceNumber - 1]),
          isEstimationSlice: false,
          isLongSlice: false,
          cotaskCount: 0,
          resultStorageType: 'values',
        });
        authSlices[job.jobId] ??= [];
        authSlices[job.jobId]?.push(t.sliceNumber);
      }
      return {
        owner: identity.address,
        signature: { r: 'x', s: 'y', v: 27 },
        auth: {
          workerId: (data.coreStats as { worker?: string })?.worker,
          authSlices,
          schedulerId: { address: identity.address },
        },
        body: { newJobs, task },
      };
    },
  });

  const rs = new OperationRegistry()
    .register({
      operation: 'status',
      schema: z.object({ worker: z.string(), slices: z.array(z.record(z.string(), z.unknown())) }),
      handler: (data) => {
        record('status', data);
        for (const b of data.slices) {
          const numbers = b.sliceNumbers as number[];
          if (b.status === 'begin')
            for (const n of numbers) begins.push({ jobId: String(b.job), sliceNumber: n });
          if (b.status === 'return') {
            returns.push({ jobId: String(b.job), sliceNumbers: numbers, reason: String(b.reason) });
            for (const n of numbers) queue.push({ jobId: String(b.job), sliceNumber: n });
          }
        }
        changed();
        return [];
      },
    })
    .register({
      operation: 'result',
      schema: z.record(z.string(), z.unknown()),
      handler: async (data) => {
        record('result', data);
        if (failResults > 0) {
          failResults--;
          throw new DcpError(DcpErrorCode.EINTERNAL, 'database busy');
        }
        inFlight.results++;
        inFlight.maxResults = Math.max(inFlight.maxResults, inFlight.results);
        if (options.resultDelayMs) await new Promise((r) => setTimeout(r, options.resultDelayMs));
        inFlight.results--;
        results.push({
          jobId: String(data.job),
          slice: Number(data.slice),
          value: jobValue.decode(unmarshalKvin(data.resultV2)),
          metrics: data.metrics as Record<string, unknown>,
          paymentAddress: String(data.paymentAddress),
          worker: String(data.worker),
        });
        changed();
        return {
          metrics: { sliceCPUTime: 1, sliceCPUDensity: 1 },
          slicePaymentAmount: String(options.payment ?? 0.25),
        };
      },
    });

  let tokens = 0;
  const er = new OperationRegistry()
    .register({
      operation: 'workEmit',
      schema: z.record(z.string(), z.unknown()),
      handler: (data) => {
        workEmits.push(data);
        changed();
        return {};
      },
    })
    .register({
      operation: 'subscribe',
      schema: z.object({ label: z.string() }).loose(),
      handler: (data, ctx) => {
        record('subscribe', data);
        const token = `t${++tokens}`;
        subscribers.set(data.label, { session: ctx.session, token });
        changed();
        return { token };
      },
    })
    .register({
      operation: 'unsubscribe',
      schema: z.object({ label: z.string() }).loose(),
      handler: (data) => {
        record('unsubscribe', data);
        subscribers.delete(data.label);
        return {};
      },
    });

  target.service('taskDistributor', td);
  target.service('resultSubmitter', rs);
  target.service('eventRouter', er);
  const modules = new Map<string, string>();
  const pm = new OperationRegistry().register({
    operation: 'fetchModuleURL',
    schema: z.object({ modules: z.array(z.string()) }),
    handler: (data) => {
      record('fetchModuleURL', data);
      const out: Record<string, Record<string, string>> = {};
      for (const id of data.modules) {
        const [pkg = '', file = ''] = id.split('/');
        out[pkg] ??= {};
        out[pkg][file] = `${base}/mod/${pkg}/${file}`;
      }
      return out;
    },
  });
  target.service('packageManager', pm);

  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/etc/dcp-config.kvin') {
      const generation = url.searchParams.get('ver') === '2.0.0' ? 4 : 5;
      const l = target.locations(base, generation);
      res.setHeader('content-type', 'application/x-kvin');
      res.end(
        encodeConfig(
          {
            scheduler: {
              location: new URL(`${base}/`),
              services: {
                taskDistributor: { location: l.taskDistributor },
                resultSubmitter: { location: l.resultSubmitter },
                eventRouter: { location: l.eventRouter },
              },
            },
            packageManager: { location: l.packageManager },
            ...(options.watchdogIntervalSeconds
              ? { supervisor: { tuning: { watchdogInterval: options.watchdogIntervalSeconds } } }
              : {}),
          },
          generation,
        ),
      );
      return;
    }
    const wf = /^\/wf\/(.+)$/.exec(url.pathname);
    const job = wf ? jobs.get(wf[1] ?? '') : undefined;
    if (job) {
      res.setHeader('content-type', 'text/plain');
      res.end(job.workFunction);
      return;
    }
    const mod = /^\/mod\/([^/]+\/[^/]+)$/.exec(url.pathname);
    const source = mod ? modules.get(mod[1] ?? '') : undefined;
    if (source !== undefined) {
      res.setHeader('content-type', 'text/plain');
      res.end(source);
      return;
    }
    const arg = /^\/arg\/([^/]+)\/(\d+)$/.exec(url.pathname);
    const argJob = arg ? jobs.get(arg[1] ?? '') : undefined;
    if (argJob && arg) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(argJob.arguments?.[Number(arg[2])]));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const attached: AttachedTarget = attachDcpTarget(target, http);
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  return {
    base,
    identity,
    requests,
    results,
    returns,
    begins,
    workEmits,
    inFlight,
    subscribers,
    addModule(id, source) {
      modules.set(id, source);
    },
    addJob(job) {
      // a known job with a longer data list: its new slices are added (addSliceData)
      const known = jobs.get(job.jobId)?.data.length ?? 0;
      jobs.set(job.jobId, job);
      for (let i = known; i < job.data.length; i++) queue.push({ jobId: job.jobId, sliceNumber: i + 1 });
    },
    until(pred, timeoutMs = 30_000, what = 'condition') {
      if (pred()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const check = () => {
          if (!pred()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    async command(command, payload = {}) {
      const sub = subscribers.get('schedmsg::command');
      if (!sub) throw new Error('no SchedMsg subscriber');
      return sub.session.request('event', {
        token: sub.token,
        event: {
          eventId: `e${Date.now()}${Math.random()}`,
          data: { eventName: 'schedmsg::command', command, payload },
        },
      });
    },
    async wake() {
      const sub = subscribers.get('schedmsg::wake');
      if (!sub) return false;
      await sub.session.request('event', {
        token: sub.token,
        event: { eventId: `w${Date.now()}${Math.random()}`, data: { command: 'wake', payload: {} } },
      });
      return true;
    },
    async stop() {
      await target.close();
      await attached.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
