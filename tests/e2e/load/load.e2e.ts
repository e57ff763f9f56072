/**
 * Load (issue "Hot path at scale", acceptance 4): a 20,000-slice job of the unmodified dcp-client 5.6.1
 * completes on SQLite and on PostgreSQL while the machine is saturated (four busy-loop children) and two
 * workers hold leases at the same time (our worker, and the unmodified dcp-worker 3.3.19 on our
 * evaluator). Every result reaches the client exactly once with its value; afterwards the scheduler and
 * bank logs hold no error-level line and the ledger balances.
 *
 * DCP_EMU_LOAD_SLICES shrinks the job for a local run (default 20000); DCP_EMU_LOAD_TIMEOUT_MIN is the
 * ceiling per provider (default 30 minutes), a bound on a hang, not a speed target (bench/e2e has those).
 */
import { formatDcc } from '@dcp-emu/protocol/node';
import {
  type BusyLoad,
  cleanup,
  errorLines,
  freshDatabase,
  getJson,
  PROVIDERS,
  type Proc,
  startBusyLoad,
  startDcpWorker,
  startEvaluator,
  startOurWorker,
  type TestDatabase,
  tempDir,
} from '@dcp-emu/testing';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  balanceOf,
  clientHome,
  expectExactlyOnce,
  expectLedgerBalances,
  faucet,
  PER_SLICE,
  progressOf,
  schedulerAddress,
  sliceCount,
  startJob,
  startPaidStack,
  waitSettled,
} from './harness';

const SLICES = sliceCount('DCP_EMU_LOAD_SLICES', 20_000);
const CEILING_MS = sliceCount('DCP_EMU_LOAD_TIMEOUT_MIN', 30) * 60_000;

describe(`load: a ${SLICES}-slice job on a saturated machine, two workers`, () => {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  let busy: BusyLoad | undefined;
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await busy?.stop();
    busy = undefined;
    for (const p of procs.splice(0).reverse()) await p.stop('SIGKILL');
    await db?.drop();
    db = undefined;
    cleanup(...dirs.splice(0));
  });

  for (const provider of PROVIDERS) {
    it(
      `${provider}: every result exactly once, no error logged, the ledger balances`,
      async () => {
        db = await freshDatabase(provider, inject('pgUrl'));
        const dataDir = tempDir('dcp-emu-load-');
        dirs.push(dataDir);
        const stack = await startPaidStack(dataDir, db.url);
        procs.push(stack.scheduler, stack.bank);
        const { scheduler, bank } = stack;

        // two workers: ours (2 sandboxes) and dcp-worker 3.3.19 on our evaluator (1 sandbox)
        const ourDir = tempDir('dcp-emu-load-worker-');
        dirs.push(ourDir);
        procs.push(await startOurWorker(scheduler.url, ourDir, { cores: 2 }));
        const evaluator = await startEvaluator();
        procs.push(evaluator);
        const dcpWorker = await startDcpWorker(scheduler.url, evaluator.port, 1);
        procs.push(dcpWorker);
        dirs.push(dcpWorker.home);

        const { home, script, payer } = clientHome();
        dirs.push(home);
        const fund = BigInt(SLICES) * PER_SLICE * 2n + 1_000_000_000n; // twice the cost + 1 DCC
        await faucet(bank.url, payer, formatDcc(fund));
        const payerBefore = await balanceOf(bank.url, payer);
        const commissionAccount = (await schedulerAddress(scheduler.url)).toLowerCase();
        const commissionBefore = new Map([[commissionAccount, await balanceOf(bank.url, commissionAccount)]]);

        busy = startBusyLoad(4);
        const started = Date.now();
        const client = startJob(home, script, scheduler.url, SLICES);
        procs.push(client);

        // while the job runs: how many workers hold leased slices at once (the scheduler's view)
        let mostHolding = 0;
        let watching = true;
        const watch = (async () => {
          while (watching) {
            try {
              const { workers } = await getJson<{ workers: { worker: string; slices: unknown[] }[] }>(
                new URL('api/workers', scheduler.url).href,
              );
              mostHolding = Math.max(mostHolding, workers.filter((w) => w.slices.length > 0).length);
            } catch {
              // a busy scheduler may answer late; the next poll tries again
            }
            await new Promise((r) => setTimeout(r, 500));
          }
        })();
        let done: Awaited<ReturnType<typeof expectExactlyOnce>>;
        try {
          done = await expectExactlyOnce(client, SLICES, CEILING_MS);
        } finally {
          watching = false;
          await watch;
          const seconds = (Date.now() - started) / 1000;
          const jobs = await getJson<{ jobs: { id: string; status: string }[] }>(
            new URL('api/jobs', scheduler.url).href,
          ).catch(() => ({ jobs: [] }));
          console.log(
            `load ${provider}: ${progressOf(client)}+ of ${SLICES} results in ${seconds.toFixed(0)} s ` +
              `(${(SLICES / seconds).toFixed(1)} slices/s if complete), most workers holding leases at once: ${mostHolding}; ` +
              `jobs ${JSON.stringify(jobs.jobs.map((j) => [j.id, j.status]))}; error-level log lines: ` +
              `scheduler ${errorLines(scheduler.out).length}, bank ${errorLines(bank.out).length}`,
          );
        }
        await busy.stop();
        busy = undefined;

        const job = await getJson<{ status: string; slices: { done: number } }>(
          new URL(`api/jobs/${done.job}`, scheduler.url).href,
        );
        expect(job.status).toBe('finished');
        expect(job.slices.done).toBe(SLICES);
        const slices = await waitSettled(scheduler.url, bank.url, done.job, payer, 300_000);
        expect(slices).toHaveLength(SLICES);
        expect(slices.every((s) => s.status === 'done')).toBe(true);
        const { paidTo } = await expectLedgerBalances({
          bankUrl: bank.url,
          job: done.job,
          slices,
          payer,
          payerBefore,
          commissionBefore,
        });
        // both workers computed slices, and both held leases at the same moment
        expect([...paidTo.values()].filter((n) => n > 0).length).toBe(2);
        expect(mostHolding).toBe(2);

        expect(errorLines(scheduler.out), 'scheduler error-level log lines').toEqual([]);
        expect(errorLines(bank.out), 'bank error-level log lines').toEqual([]);
      },
      CEILING_MS + 600_000,
    );
  }
});
