import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preparePrivateDataDir, usePrivateUmask } from '@dcp-emu/service-kit';
import type { UpArgs } from './args';
import { balanceOf } from './bank-client';
import { type DevSettings, devSettingsFile, needsSeed, seed } from './seeding';
import { ensureBuilt } from './build';
import { evaluatorEnv, nodeOptionsWithLogin } from './dcp-login';
import { type DevAccount, devAccounts, resourceDirOf, writeDevKeystores } from './identities';
import { type ServeProfile, serveBanner, warnExposedDev } from './serve-profile';
import { type Running, specs, stopAll, tail, urlOf, waitReady } from './stack';
import { SupervisedService } from './supervise';
import {
  adminTokenFile,
  dcpEnv,
  exportLines,
  processAlive,
  readStackInfo,
  removeStackInfo,
  type StackInfo,
  writeStackInfo,
} from './stack-file';

export interface UpOptions extends UpArgs {
  readyTimeoutMs: number;
  /** `dcp-emu exec`: run this command once the stack is ready, then stop and exit with its code */
  exec?: { command: string; args: string[]; cleanDataDir: boolean };
  /** `dcp-emu serve`: the production profile (no dev accounts, fixed admin token, public URLs) */
  serve?: ServeProfile;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/**
 * `dcp-emu up` / `npm start`: builds what is missing, starts every service, waits until each is
 * ready, funds the dev accounts, prints the URLs, the accounts and the environment an unmodified DCP
 * program needs, supervises the services (one that exits unexpectedly is restarted with back-off)
 * and stops everything cleanly on Ctrl-C.
 */
export async function up(o: UpOptions): Promise<number> {
  const previous = readStackInfo(o.dataDir);
  if (previous && previous.pid !== process.pid && processAlive(previous.pid)) {
    process.stderr.write(
      `dcp-emu: a stack is already running for ${o.dataDir} (pid ${previous.pid}); stop it first or use --data-dir\n`,
    );
    return 1;
  }
  const t0 = Date.now();
  if (o.build) ensureBuilt({ portal: o.services.includes('portal') });
  // the data dir is the user's alone: what is in it 0600/0700, and what we and the services we
  // start create from now on too (SQLite files, keystores, logs, snapshots)
  usePrivateUmask();
  preparePrivateDataDir(o.dataDir);
  const adminToken = o.serve?.adminToken ?? randomBytes(32).toString('hex');
  writeFileSync(adminTokenFile(o.dataDir), `${adminToken}\n`, { mode: 0o600 });
  // `serve` has no dev accounts: their keys are public (the Anvil/Hardhat mnemonic)
  const accounts = o.serve ? [] : devAccounts(o.accounts);
  const resourceDir = resourceDirOf(o.dataDir);
  const homeDir = join(o.dataDir, 'home');
  mkdirSync(homeDir, { recursive: true });
  mkdirSync(resourceDir, { recursive: true });
  if (accounts[0]) writeDevKeystores(resourceDir, accounts[0] as DevAccount);
  else if (!o.serve) throw new Error('no dev accounts');
  if (!o.serve) warnExposedDev(o.host);
  const settings: DevSettings = {
    fund: o.fund,
    accounts: accounts.map((a) => ({ index: a.index, address: a.address })),
  };
  writeFileSync(devSettingsFile(o.dataDir), `${JSON.stringify(settings, null, 2)}\n`);

  const list = specs({ ...o, adminToken, ...(o.serve ? { extraEnv: o.serve.env } : {}) });
  process.stderr.write(`dcp-emu: starting ${list.map((s) => s.name).join(', ')} (data in ${o.dataDir})…\n`);
  const supervised: SupervisedService[] = [];
  const running = () => supervised.flatMap((s) => (s.current ? [s.current] : []));
  let stopping = false;
  let published = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    for (const s of supervised) s.stop();
    process.stderr.write(`\ndcp-emu: ${why}; stopping ${supervised.map((s) => s.spec.name).join(', ')}…\n`);
    await stopAll(running());
    removeStackInfo(o.dataDir, process.pid);
    if (o.exec?.cleanDataDir) rmSync(o.dataDir, { recursive: true, force: true });
    process.stderr.write('dcp-emu: stopped\n');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('interrupted', 0));
  process.on('SIGTERM', () => void shutdown('terminated', 0));
  const info: StackInfo = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dataDir: o.dataDir,
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    resourceDir,
    homeDir,
    urls: Object.fromEntries(list.map((s) => [s.name, s.url])),
    ...(o.serve ? { publicUrls: { ...o.serve.publicUrls } } : {}),
    ...(o.services.includes('worker') ? { evaluator: urlOf(o.host, o.ports.evaluator) } : {}),
  };
  // restart counts and states for `dcp-emu status`, once the stack is published
  const changed = () => {
    info.processes = Object.fromEntries(supervised.map((s) => [s.spec.name, s.info]));
    if (published && !stopping) writeStackInfo(info);
  };
  const supervise = (spec: (typeof list)[number]): Running => {
    const s = new SupervisedService(spec, o.dataDir, changed);
    supervised.push(s);
    return s.start();
  };
  try {
    // Every service starts at once and becomes ready in parallel: each migrates its own database
    // (one shared database is migrated under the migrator's lock, so concurrent starts serialize
    // there), the worker and the portal wait for the scheduler and the bank by themselves.
    const ready = async (r: Running) => {
      const started = Date.now();
      await waitReady(r, o.readyTimeoutMs);
      process.stderr.write(`dcp-emu: ${r.spec.name} ready (${seconds(started)})\n`);
    };
    await Promise.all(list.map(supervise).map(ready));
    if (await needsSeed(info)) {
      if (accounts.length) process.stderr.write(`dcp-emu: funding ${accounts.length} dev accounts…\n`);
      await seed(info, accounts, o.fund);
    }
  } catch (e) {
    process.stderr.write(`dcp-emu: ${(e as Error).message}\n`);
    for (const r of running()) {
      const t = tail(r.logFile, 15);
      if (t) process.stderr.write(`--- ${r.spec.name} (${r.logFile}) ---\n${t}\n`);
    }
    await shutdown('start-up failed', 1);
    return 1;
  }
  published = true;
  changed();
  if (o.exec) return runExec(o.exec, info, supervised, shutdown, t0);
  if (o.serve) {
    process.stdout.write(serveBanner(o.serve, list));
    process.stderr.write(
      `\ndcp-emu: serving in ${seconds(t0)}. Logs in ${o.dataDir}/logs (dcp-emu logs -f). Ctrl-C or SIGTERM stops it.\n`,
    );
    for (const s of supervised) s.supervise();
    return new Promise<number>(() => {});
  }

  const out: string[] = [];
  const width = Math.max(...list.map((s) => s.name.length)) + 2;
  for (const s of list) out.push(`${s.name.padEnd(width)}${s.url}`);
  out.push(
    '',
    `dev accounts (mnemonic "test test … junk", m/44'/60'/0'/0/i; account 0 is the default identity):`,
  );
  const bank = info.urls.bank as string;
  const balances = await Promise.all(accounts.map((a) => balanceOf(bank, a.address).catch(() => '?')));
  for (const a of accounts) out.push(`  (${a.index}) ${a.address}  ${balances[a.index]} DCC`);
  out.push(
    '',
    `keystores: ${resourceDir}/{id,default}.keystore (your ~/.dcp is not used)`,
    '',
    'environment for unmodified dcp-client / dcp-worker / dcp-util programs (also: eval "$(dcp-emu env)"):',
    exportLines(dcpEnv(info)).trimEnd(),
    '',
    'run a program:  npx dcp-emu run node_modules/dcp-client/examples/nodejs/simple-job.js',
  );
  process.stdout.write(`${out.join('\n')}\n`);
  process.stderr.write(
    `\ndcp-emu: ready in ${seconds(t0)}. Logs in ${o.dataDir}/logs (dcp-emu logs -f). Press Ctrl-C to stop.\n`,
  );
  // a service that exits unexpectedly is restarted with back-off; Ctrl-C stops them all
  for (const s of supervised) s.supervise();
  return new Promise<number>(() => {});
}

/**
 * `dcp-emu exec`: the stack is ready; run the command with the DCP environment (services stay
 * supervised meanwhile), then stop everything and exit with the command's code.
 */
function runExec(
  exec: NonNullable<UpOptions['exec']>,
  info: StackInfo,
  supervised: SupervisedService[],
  shutdown: (why: string, code: number) => Promise<void>,
  t0: number,
): Promise<number> {
  const env = dcpEnv(info);
  process.stderr.write(
    `dcp-emu: stack ready in ${seconds(t0)} (scheduler ${info.urls.scheduler}); running ${exec.command}…\n`,
  );
  for (const s of supervised) s.supervise();
  return new Promise<number>((resolve) => {
    const child = spawn(exec.command, exec.args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        ...env,
        DCP_EMU_DATA_DIR: info.dataDir,
        // node programs it starts get the dcp-client login preload and the stack's evaluator (dcp-login.ts)
        NODE_OPTIONS: nodeOptionsWithLogin(process.env.NODE_OPTIONS),
        ...evaluatorEnv(info),
      },
    });
    // if we are stopped first (Ctrl-C, a CI timeout), the command goes with us
    const stopChild = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    process.once('exit', stopChild);
    child.once('error', (e) => {
      process.stderr.write(`dcp-emu: could not run ${exec.command}: ${e.message}\n`);
      void shutdown(`${exec.command} could not start`, 127).then(() => resolve(127));
    });
    child.once('exit', (code, signal) => {
      const status = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1);
      void shutdown(`${exec.command} exited with ${status}`, status).then(() => resolve(status));
    });
  });
}
