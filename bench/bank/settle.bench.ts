/**
 * Bank figures (printed, never asserted): settled slice payments per second.
 * One funded payment account, one hold for the job, then N accepted results, each settled as one
 * capture (payment to one of W workers plus a commission) with C captures in flight at a time; then
 * the release. Checks the ledger's invariants at the end, so a fast but wrong run shows up.
 *
 * `<provider>+dcp` settles as the scheduler did before batching: each capture is a signed `capture@1`
 * request over DCP (socket.io on loopback) to the bank's escrow service, with the scheduler's identity.
 * `<provider>+dcp-batch` settles as the scheduler's settle loop does now: `captureBatch@1` requests of up
 * to [batch] payments, one at a time, each applied by the bank as one ledger transaction.
 * `<provider>+batch` is the same batch use case in process (no DCP).
 *
 * Run from the repository root:
 *   npx tsx bench/bank/settle.bench.ts [slices=3000] [concurrency=32] [providers=…] [batch=2000]
 * default providers: memory,sqlite,postgresql,sqlite+dcp,sqlite+batch,sqlite+dcp-batch
 * (`sqlite` settles batches as the bank runs, on a better-sqlite3 connection of its own; `sqlite-prisma`
 * through Prisma's set-based statements, as PostgreSQL does)
 * PostgreSQL: DCP_EMU_BENCH_PG_URL=postgresql://… (a database it may fill), else a throw-away server.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@dcp-emu/db';
import { attachDcpTarget, DcpInitiator, DcpTarget, Identity } from '@dcp-emu/protocol/node';
import { createBankLedger } from '../../apps/bank/src/accounts/bank-ledger';
import { PrismaLedgerStore } from '../../apps/bank/src/accounts/prisma-ledger.store';
import { sqliteSettlementDb } from '../../apps/bank/src/accounts/sqlite-settlement';
import { formatDcc, UNITS_PER_DCC } from '../../apps/bank/src/ledger/amount';
import { auditLedger } from '../../apps/bank/src/ledger/invariants';
import {
  ConfiguredSchedulerTrust,
  ESCROW_PATH,
  ESCROW_SERVICE,
  escrowOperations,
} from '../../apps/bank/src/escrow/escrow-service';
import { MemoryLedgerStore } from '../../apps/bank/src/ledger/memory-store';
import type { LedgerStore } from '../../apps/bank/src/ledger/store';

const slices = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 32);
const providers = (
  process.argv[4] ?? 'memory,sqlite,postgresql,sqlite+dcp,sqlite+batch,sqlite+dcp-batch'
).split(',');
const batchSize = Number(process.argv[5] ?? 2000);
const WORKERS = 16;

const address = () => `0x${randomBytes(20).toString('hex')}`;
const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as never;

type Capture = (
  hold: string,
  to: string,
  amount: bigint,
  commission: { to: string; amount: bigint },
  slice: number,
) => Promise<unknown>;

interface Payment {
  hold: string;
  to: string;
  amount: bigint;
  commission: { to: string; amount: bigint };
  slice: number;
}
/** Settles a batch; resolves to how many items were settled (not refused). */
type CaptureMany = (payments: Payment[]) => Promise<number>;

const wire = (p: Payment) => ({
  hold: p.hold,
  to: p.to,
  amount: formatDcc(p.amount),
  commission: { to: p.commission.to, amount: formatDcc(p.commission.amount) },
  slice: p.slice + 1,
  worker: 'bench',
  key: `bench-job:${p.slice}`,
});

/** Captures over DCP: the bank's escrow service on loopback, called with a trusted scheduler identity. */
async function overDcp(
  ledger: ReturnType<typeof createBankLedger>,
): Promise<{ capture: Capture; captureMany: CaptureMany; close(): Promise<void> }> {
  const scheduler = Identity.random();
  const target = new DcpTarget({ identity: Identity.random(), logger: quiet });
  target.service(
    ESCROW_SERVICE,
    escrowOperations(ledger, new ConfiguredSchedulerTrust([scheduler.address])),
    {
      path: ESCROW_PATH,
    },
  );
  const server = createServer();
  const attached = attachDcpTarget(target, server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${ESCROW_PATH}`;
  const initiator = new DcpInitiator({ location: url, identity: scheduler, logger: quiet });
  return {
    capture: (hold, to, amount, commission, slice) =>
      initiator.request('capture@1', wire({ hold, to, amount, commission, slice })),
    async captureMany(payments) {
      const answer = (await initiator.request('captureBatch@1', { captures: payments.map(wire) })) as {
        results: Array<{ status: string }>;
      };
      return answer.results.filter((r) => r.status !== 'failed').length;
    },
    async close() {
      await initiator.close();
      await target.close();
      await attached.close();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Opened {
  store: LedgerStore;
  close(): Promise<void>;
}

async function open(provider: string): Promise<Opened> {
  if (provider === 'memory') return { store: new MemoryLedgerStore(), close: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'dcp-emu-bank-bench-'));
  let url = `file:${join(dir, 'bank.sqlite')}`; // sqlite and sqlite-prisma
  let stopPg: (() => void) | undefined;
  if (provider === 'postgresql') {
    if (process.env.DCP_EMU_BENCH_PG_URL) url = process.env.DCP_EMU_BENCH_PG_URL;
    else {
      const { startPostgres } = await import('@dcp-emu/testing');
      const pg = await startPostgres();
      url = pg.url;
      stopPg = () => pg.stop();
    }
  }
  const db = await openDatabase({ url, dataDir: dir });
  // `sqlite` settles as the bank runs (a better-sqlite3 connection of its own); `sqlite-prisma` through Prisma
  const settlementDb = provider === 'sqlite' ? await sqliteSettlementDb(db.location.target) : undefined;
  return {
    store: new PrismaLedgerStore(db.prisma, db.provider, settlementDb ? { settlementDb } : {}),
    async close() {
      settlementDb?.close();
      await db.close();
      stopPg?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function settle(provider: string): Promise<void> {
  const [storage, via] = provider.split('+');
  const { store, close } = await open(storage ?? provider);
  let dcp: Awaited<ReturnType<typeof overDcp>> | undefined;
  try {
    const ledger = createBankLedger({ store });
    const direct: Capture = (hold, to, amount, commission, slice) =>
      ledger.capture.execute(hold, { to, amount, commission, slice }, `bench-job:${slice}`);
    const directMany: CaptureMany = async (payments) => {
      const { outcomes } = await ledger.captureBatch.execute(
        payments.map((p) => ({
          hold: p.hold,
          key: `bench-job:${p.slice}`,
          payment: {
            to: p.to,
            amount: p.amount,
            commission: p.commission,
            slice: p.slice + 1,
            worker: 'bench',
          },
        })),
      );
      return outcomes.filter((o) => o.status !== 'failed').length;
    };
    if (via === 'dcp' || via === 'dcp-batch') dcp = await overDcp(ledger);
    const capture = dcp?.capture ?? direct;
    const batched = via === 'batch' || via === 'dcp-batch';
    const captureMany = dcp?.captureMany ?? directMany;
    const payer = address();
    const scheduler = address();
    const workers = Array.from({ length: WORKERS }, address);
    const payment = UNITS_PER_DCC / 1000n; // 0.001 DCC per slice
    const commission = payment / 10n;
    await ledger.mint.execute({ to: payer, amount: 1000n * UNITS_PER_DCC });
    const { hold } = await ledger.hold.execute({
      account: payer,
      amount: BigInt(slices) * (payment + commission),
      refs: { job: 'bench-job' },
    });

    let next = 0;
    let settled = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const lane = async () => {
      while (next < slices) {
        const slice = next++;
        await capture(
          hold.id,
          workers[slice % WORKERS]!,
          payment,
          { to: scheduler, amount: commission },
          slice,
        );
        settled++;
      }
    };
    if (batched) {
      // as the settle loop: one batch request at a time
      for (let from = 0; from < slices; from += batchSize) {
        const payments = Array.from({ length: Math.min(batchSize, slices - from) }, (_, i) => ({
          hold: hold.id,
          to: workers[(from + i) % WORKERS]!,
          amount: payment,
          commission: { to: scheduler, amount: commission },
          slice: from + i,
        }));
        settled += await captureMany(payments);
      }
    } else {
      await Promise.all(Array.from({ length: Math.min(concurrency, slices) }, lane));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    // this process's CPU time (bank and the scheduler-side client both run here): a figure a busy
    // machine disturbs far less than the wall clock
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const released = await ledger.release.execute(hold.id);

    const audit = auditLedger(await store.snapshot());
    const paid = (await ledger.balance.execute(workers[0]!)).balance;
    const rate = slices / seconds;
    results.push({ provider, rate, cpuRate: slices / cpuSeconds });
    const how = batched
      ? `batches of ${Math.min(batchSize, slices)}`
      : `${concurrency} in flight, ${ledger.capture.stats.batches} tick batches (${ledger.capture.stats.fallbacks} settled singly)`;
    console.log(
      `${provider.padEnd(20)} ${slices} slice payments, ${how}: ` +
        `${rate.toFixed(0)} settled/s (${((seconds * 1000) / slices).toFixed(3)} ms each; ` +
        `${(slices / cpuSeconds).toFixed(0)} per CPU-second); ` +
        `${settled === slices ? 'all settled' : `ONLY ${settled} settled`}; ` +
        `worker 0 earned ${formatDcc(paid)} DCC, released ${formatDcc(released.released)} DCC; ` +
        `audit ${audit.problems.length === 0 ? 'clean' : `FAILED: ${audit.problems.slice(0, 3).join('; ')}`}`,
    );
  } finally {
    await dcp?.close();
    await close();
  }
}

const results: Array<{ provider: string; rate: number; cpuRate: number }> = [];

async function main(): Promise<void> {
  for (const provider of providers) await settle(provider);
  // before/after side by side: each single-capture row next to its batched counterpart
  const pairs = results.filter((r) => /\+dcp$/.test(r.provider) || !r.provider.includes('+'));
  const rows = pairs
    .map((before) => {
      const storage = before.provider.split('+')[0]!;
      const after = results.find(
        (r) =>
          r.provider === (before.provider.endsWith('+dcp') ? `${storage}+dcp-batch` : `${storage}+batch`),
      );
      return after ? { before, after } : undefined;
    })
    .filter((r) => r !== undefined);
  if (rows.length > 0) {
    console.log(
      `\nsettled slice payments/s (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)\n` +
        '                          single captures   batched      ×   | per CPU-second: single   batched',
    );
    for (const { before, after } of rows)
      console.log(
        `  ${after.provider.padEnd(22)} ${before.rate.toFixed(0).padStart(15)} ${after.rate.toFixed(0).padStart(9)} ${(after.rate / before.rate).toFixed(1).padStart(6)}   |` +
          `${before.cpuRate.toFixed(0).padStart(23)} ${after.cpuRate.toFixed(0).padStart(9)}`,
      );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
