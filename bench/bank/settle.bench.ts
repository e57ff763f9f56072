/**
 * Bank figures (printed, never asserted): settled slice payments per second.
 * One funded payment account, one hold for the job, then N accepted results, each settled as one
 * capture (payment to one of W workers plus a commission) with C captures in flight at a time; then
 * the release. Checks the ledger's invariants at the end, so a fast but wrong run shows up.
 *
 * Run from the repository root:
 *   npx tsx bench/bank/settle.bench.ts [slices=3000] [concurrency=32] [providers=memory,sqlite,postgresql]
 * PostgreSQL: DCP_EMU_BENCH_PG_URL=postgresql://… (a database it may fill), else a throw-away server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@dcp-emu/db';
import { createBankLedger } from '../../apps/bank/src/accounts/bank-ledger';
import { PrismaLedgerStore } from '../../apps/bank/src/accounts/prisma-ledger.store';
import { formatDcc, UNITS_PER_DCC } from '../../apps/bank/src/ledger/amount';
import { auditLedger } from '../../apps/bank/src/ledger/invariants';
import { MemoryLedgerStore } from '../../apps/bank/src/ledger/memory-store';
import type { LedgerStore } from '../../apps/bank/src/ledger/store';

const slices = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 32);
const providers = (process.argv[4] ?? 'memory,sqlite,postgresql').split(',');
const WORKERS = 16;

const address = () => `0x${randomBytes(20).toString('hex')}`;

interface Opened {
  store: LedgerStore;
  close(): Promise<void>;
}

async function open(provider: string): Promise<Opened> {
  if (provider === 'memory') return { store: new MemoryLedgerStore(), close: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'dcp-emu-bank-bench-'));
  let url = `file:${join(dir, 'bank.sqlite')}`;
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
  return {
    store: new PrismaLedgerStore(db.prisma, db.provider),
    async close() {
      await db.close();
      stopPg?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function settle(provider: string): Promise<void> {
  const { store, close } = await open(provider);
  try {
    const ledger = createBankLedger({ store });
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
    const started = performance.now();
    const lane = async () => {
      while (next < slices) {
        const slice = next++;
        await ledger.capture.execute(
          hold.id,
          {
            to: workers[slice % WORKERS]!,
            amount: payment,
            commission: { to: scheduler, amount: commission },
            slice,
          },
          `bench-job:${slice}`,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, slices) }, lane));
    const seconds = (performance.now() - started) / 1000;
    const released = await ledger.release.execute(hold.id);

    const audit = auditLedger(await store.snapshot());
    const paid = (await ledger.balance.execute(workers[0]!)).balance;
    console.log(
      `${provider.padEnd(10)} ${slices} slice payments, ${concurrency} in flight: ` +
        `${(slices / seconds).toFixed(0)} settled/s (${((seconds * 1000) / slices).toFixed(2)} ms each); ` +
        `${ledger.capture.stats.batches} batches (${ledger.capture.stats.fallbacks} settled singly); ` +
        `worker 0 earned ${formatDcc(paid)} DCC, released ${formatDcc(released.released)} DCC; ` +
        `audit ${audit.problems.length === 0 ? 'clean' : `FAILED: ${audit.problems.slice(0, 3).join('; ')}`}`,
    );
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  for (const provider of providers) await settle(provider);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
