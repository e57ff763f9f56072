import { existsSync, readFileSync } from 'node:fs';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { Identity, loadOrCreateIdentity, readKeystoreFile } from '@dcp-emu/protocol/node';
import { defaultDataDir, type Logger } from '@dcp-emu/service-kit';
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

export interface RunningWorker {
  supervisor: Supervisor;
  evaluator: EvaluatorProcess | undefined;
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
  if (o.startEvaluator) {
    if (await probe(o.evaluatorHost, o.evaluatorPort, 500))
      throw new Error(
        `something already listens at ${o.evaluatorHost}:${o.evaluatorPort}; pass --external-evaluator to use it, or -p for another port`,
      );
    evaluator = new EvaluatorProcess(o.evaluatorHost, o.evaluatorPort, logger, env);
    evaluator.start();
  }
  try {
    await waitForEvaluator(o.evaluatorHost, o.evaluatorPort);
  } catch (e) {
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
    identity,
    paymentAddress,
    async stop(immediate = false) {
      await supervisor.stop(immediate);
      await evaluator?.stop();
    },
  };
}
