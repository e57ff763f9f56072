/**
 * Bank figures (printed, never asserted): settled slice payments per second.
 * One funded payment account, one hold for the job, then N accepted results, each settled as one
 * capture (payment to one of W workers plus a commission) with C captures in flight at a time; then
 * the release. Checks the ledger's invariants at the end, so a fast but wrong run shows up.
 *
 * `<provider>+dcp` settles as the scheduler does: each capture is a signed `capture@1` request over DCP
 * (socket.io on loopback) to the bank's escrow service, with the scheduler's identity.
 *
 * Run from the repository root:
 *   npx tsx bench/bank/settle.bench.ts [slices=3000] [concurrency=32] [providers=memory,sqlite,postgresql,sqlite+dcp]
 * PostgreSQL: DCP_EMU_BENCH_PG_URL=postgresql://… (a database it may fill), else a throw-away server.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@dcp-emu/db';
import { attachDcpTarget, DcpInitiator, DcpTarget, Identity } from '@dcp-emu/protocol/node';
import { createBankLedger } from '../../apps/bank/src/accounts/bank-ledger';
import { PrismaLedgerStore } from '../../apps/bank/src/accounts/prisma-ledger.store';
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
const providers = (process.argv[4] ?? 'memory,sqlite,postgresql,sqlite+dcp').split(',');
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

/** Captures over DCP: the bank's escrow service on loopback, called with a trusted scheduler identity. */
async function overDcp(
  ledger: ReturnType<typeof createBankLedger>,
): Promise<{ capture: Capture; close(): Promise<void> }> {
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
      initiator.request('capture@1', {
        hold,
        to,
        amount: formatDcc(amount),
        commission: { to: commission.to, amount: formatDcc(commission.amount) },
        slice: slice + 1,
        worker: 'bench',
        key: `bench-job:${slice}`,
      }),
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
  const [storage, via] = provider.split('+');
  const { store, close } = await open(storage ?? provider);
  let dcp: Awaited<ReturnType<typeof overDcp>> | undefined;
  try {
    const ledger = createBankLedger({ store });
    const direct: Capture = (hold, to, amount, commission, slice) =>
      ledger.capture.execute(hold, { to, amount, commission, slice }, `bench-job:${slice}`);
    if (via === 'dcp') dcp = await overDcp(ledger);
    const capture = dcp?.capture ?? direct;
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
        await capture(
          hold.id,
          workers[slice % WORKERS]!,
          payment,
          { to: scheduler, amount: commission },
          slice,
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
    await dcp?.close();
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
