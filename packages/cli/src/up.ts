import { ensureBuilt } from './build';
import { launch, type Running, type StackOptions, specs, stopAll, tail, waitReady } from './stack';

export interface UpOptions extends StackOptions {
  build: boolean;
  readyTimeoutMs: number;
}

/**
 * `dcp-emu up` / `npm start`: builds what is missing, starts every service, waits until each is
 * ready, prints the URLs and the environment an unmodified DCP program needs, and stops everything
 * cleanly on Ctrl-C (or when any service dies).
 */
export async function up(o: UpOptions): Promise<number> {
  if (o.build) ensureBuilt({ portal: o.services.includes('portal') });
  const list = specs(o);
  process.stderr.write(`dcp-emu: starting ${list.map((s) => s.name).join(', ')} (data in ${o.dataDir})…\n`);
  // The scheduler migrates the database first; the others start once it is ready, so a fresh
  // database is migrated by one process.
  const running: Running[] = [];
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\ndcp-emu: ${why}; stopping ${running.map((r) => r.spec.name).join(', ')}…\n`);
    await stopAll(running);
    process.stderr.write('dcp-emu: stopped\n');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('interrupted', 0));
  process.on('SIGTERM', () => void shutdown('terminated', 0));
  try {
    const [first, ...rest] = list;
    if (first) {
      running.push(launch(first, o.dataDir));
      await waitReady(running[0] as Running, o.readyTimeoutMs);
    }
    const others = rest.map((s) => launch(s, o.dataDir));
    running.push(...others);
    await Promise.all(others.map((r) => waitReady(r, o.readyTimeoutMs)));
  } catch (e) {
    process.stderr.write(`dcp-emu: ${(e as Error).message}\n`);
    for (const r of running) {
      const t = tail(r.logFile, 15);
      if (t) process.stderr.write(`--- ${r.spec.name} (${r.logFile}) ---\n${t}\n`);
    }
    await shutdown('start-up failed', 1);
    return 1;
  }
  const width = Math.max(...list.map((s) => s.name.length)) + 2;
  for (const s of list) process.stdout.write(`${s.name.padEnd(width)}${s.url}\n`);
  const scheduler = list.find((s) => s.name === 'scheduler');
  if (scheduler) process.stdout.write(`\nexport DCP_SCHEDULER_LOCATION=${scheduler.url}\n`);
  process.stderr.write(`\ndcp-emu: ready. Logs in ${o.dataDir}/logs. Press Ctrl-C to stop.\n`);
  for (const r of running) {
    r.exited.then((code) => {
      if (!stopping) {
        process.stderr.write(
          `dcp-emu: ${r.spec.name} exited unexpectedly (code ${code})\n${tail(r.logFile, 15)}\n`,
        );
        void shutdown(`${r.spec.name} died`, 1);
      }
    });
  }
  return new Promise<number>(() => {});
}
