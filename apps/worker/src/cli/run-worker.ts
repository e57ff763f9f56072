import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { Identity, loadOrCreateIdentity, readKeystoreFile } from '@dcp-emu/protocol/node';
import { defaultDataDir, type Logger } from '@dcp-emu/service-kit';
import { ActivityMonitor, EvaluatorManager, fileLoad, ptsSessions, systemLoad } from '../evaluator-manager';
import { EvaluatorProcess, probe } from '../evaluator-process';
import {
  discoverScheduler,
  isLocalHost,
  loadOrCreateWorkerId,
  Supervisor,
  stackServices,
} from '../supervisor';
import { type CliOptions, sandboxCount } from './args';

/**
 * The worker's identity (signs every DCP message): --identityKey, -I keystore, ~/.dcp/id.keystore
 * (as dcp-worker), else one created once in the data dir.
 */
export function resolveIdentity(
  o: Pick<CliOptions, 'identityKey' | 'identityFile'>,
  dataDir: string,
  home = homedir(),
): Identity {
  if (o.identityKey) return Identity.fromPrivateKey(o.identityKey.replace(/^0x/, ''));
  if (o.identityFile) return readKeystoreFile(o.identityFile);
  const dcpId = join(home, '.dcp', 'id.keystore');
  if (existsSync(dcpId)) return readKeystoreFile(dcpId);
  return loadOrCreateIdentity(join(dataDir, 'worker-identity.keystore'));
}

/** Earnings account: --paymentAddress, else ~/.dcp/default.keystore's address, else the identity's. */
export function resolvePaymentAddress(
  o: Pick<CliOptions, 'paymentAddress'>,
  identity: Identity,
  home = homedir(),
): string {
  if (o.paymentAddress) return o.paymentAddress;
  const file = join(home, '.dcp', 'default.keystore');
  if (existsSync(file)) {
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { address?: unknown };
      const a = String(json.address ?? '').replace(/^0x/i, '');
      if (/^[0-9a-fA-F]{40}$/.test(a)) return `0x${a}`;
    } catch {
      // unreadable: fall back to the identity
    }
  }
  return identity.address;
}

/** Polls host:port until an evaluator accepts connections. */
export async function waitForEvaluator(host: string, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe(host, port, 500))) {
    if (Date.now() > deadline) throw new Error(`no evaluator at ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free TCP port on host (for the evaluator behind an in-process evaluator manager). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const a = server.address();
      server.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface RunningWorker {
  supervisor: Supervisor;
  evaluator: EvaluatorProcess | undefined;
  /** --evaluator-manager: the guard in front of our evaluator (its busy/idle events) */
  manager: EvaluatorManager | undefined;
  identity: Identity;
  paymentAddress: string;
  /** stop the supervisor (graceful or immediate), then the evaluator we started */
  stop(immediate?: boolean): Promise<void>;
}

/** Resolves identity and services, starts the evaluator (unless external) and the supervisor. */
export async function startWorker(
  o: CliOptions,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningWorker> {
  const dataDir = o.dataDir ?? defaultDataDir(env);
  const identity = resolveIdentity(o, dataDir);
  const paymentAddress = resolvePaymentAddress(o, identity);
  const workerId = loadOrCreateWorkerId(join(dataDir, 'worker-id'));
  const found = await discoverScheduler(o.schedulerUrl);
  let evaluator: EvaluatorProcess | undefined;
  let manager: EvaluatorManager | undefined;
  if (o.startEvaluator) {
    if (await probe(o.evaluatorHost, o.evaluatorPort, 500))
      throw new Error(
        `something already listens at ${o.evaluatorHost}:${o.evaluatorPort}; pass --external-evaluator to use it, or -p for another port`,
      );
    // with --evaluator-manager the evaluator listens on a port of its own, the manager on -H/-p
    const inner = o.evaluatorManager ? await freePort('127.0.0.1') : o.evaluatorPort;
    const innerHost = o.evaluatorManager ? '127.0.0.1' : o.evaluatorHost;
    evaluator = new EvaluatorProcess(innerHost, inner, logger, env);
    evaluator.start();
    try {
      await waitForEvaluator(innerHost, inner);
      if (o.evaluatorManager) {
        const m = o.evaluatorManager;
        manager = new EvaluatorManager(
          {
            listenHost: o.evaluatorHost,
            listenPort: o.evaluatorPort,
            evaluatorHost: innerHost,
            evaluatorPort: inner,
            pollMs: m.pollMs,
            rateMs: 0,
            killOnBusy: m.killOnBusy,
          },
          new ActivityMonitor(
            {
              maxLoad: m.maxLoad,
              loadavgType: m.loadavgType,
              idleTimeoutMs: m.idleTimeoutMs,
              disabled: new Set(m.disabled),
            },
            {
              load: m.loadavgFile ? fileLoad(m.loadavgFile) : systemLoad,
              sessions: ptsSessions(m.pts),
              now: Date.now,
            },
          ),
        );
        await manager.start();
      }
    } catch (e) {
      await manager?.stop();
      await evaluator.stop();
      throw e;
    }
  }
  try {
    await waitForEvaluator(o.evaluatorHost, o.evaluatorPort);
  } catch (e) {
    await manager?.stop();
    await evaluator?.stop();
    throw e;
  }
  const supervisor = new Supervisor({
    identity,
    services: found.services,
    schedulerOrigin: new URL(o.schedulerUrl).origin,
    evaluator: { host: o.evaluatorHost, port: o.evaluatorPort },
    paymentAddress,
    workerId,
    maxSandboxes: sandboxCount(o),
    computeGroups: o.computeGroups,
    leavePublicGroup: o.leavePublicGroup,
    allowOrigins: o.allowOrigins,
    originPolicy: {
      // the dev default (loopback origins) only next to a local scheduler; a remote one: deny by default
      allowLoopback: !o.strictOrigins && isLocalHost(new URL(o.schedulerUrl).hostname),
      localAddresses: Object.values(networkInterfaces()).flatMap((list) =>
        (list ?? []).map((a) => a.address),
      ),
      denied: stackServices({
        schedulerUrl: o.schedulerUrl,
        services: { ...found.services },
        config: found.config,
        extra: [{ name: 'evaluator', url: `http://${o.evaluatorHost}:${o.evaluatorPort}/` }],
      }),
    },
    minimumWage: o.minimumWage,
    jobIds: o.jobIds,
    ...((o.watchdogIntervalMs ?? found.watchdogIntervalMs)
      ? { watchdogIntervalMs: o.watchdogIntervalMs ?? found.watchdogIntervalMs }
      : {}),
    cleanupTimeoutMs: o.cleanupTimeoutMs,
    logger,
  });
  await supervisor.start();
  return {
    supervisor,
    evaluator,
    manager,
    identity,
    paymentAddress,
    async stop(immediate = false) {
      await supervisor.stop(immediate);
      await manager?.stop();
      await evaluator?.stop();
    },
  };
}
