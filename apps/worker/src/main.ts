import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '@dcp-emu/protocol/node';
import { ConfigError, createLogger, listen } from '@dcp-emu/service-kit';
import { loadWorkerConfig } from './config';
import { EvaluatorProcess, probe } from './evaluator-process';
import { discoverScheduler, loadOrCreateWorkerId, Supervisor, stackServices } from './supervisor';

/** True when the scheduler answers its config endpoint within the timeout. */
async function schedulerReachable(url: URL, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(new URL('etc/dcp-config.kvin?ver=2.1.0', url), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The worker service of a dcp-emu stack: runs its evaluator and the supervisor (fetching slices
 * from `DCP_EMU_SCHEDULER_URL`, earning into the configured payment address), and serves
 * `/healthz` (with work figures) and `/readyz` (ready when the evaluator accepts sandbox
 * connections and the scheduler is reachable).
 */
async function main() {
  const config = loadWorkerConfig();
  const logger = createLogger('worker', config.logLevel);
  const evaluator = config.startEvaluator
    ? new EvaluatorProcess(config.evaluatorHost, config.evaluatorPort, logger)
    : undefined;
  evaluator?.start();
  const started = Date.now();
  let supervisor: Supervisor | undefined;
  let stopping = false;

  const startSupervisor = async () => {
    const identity = loadOrCreateIdentity(join(config.dataDir, 'worker.keystore'));
    const paymentAddress = config.paymentAddress ?? identity.address;
    const workerId = loadOrCreateWorkerId(join(config.dataDir, 'worker-id'));
    // the scheduler may come up after us: retry discovery with a bounded back-off
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const found = await discoverScheduler(config.schedulerUrl, undefined, 5_000);
        if (stopping) return;
        supervisor = new Supervisor({
          identity,
          services: found.services,
          schedulerOrigin: config.schedulerUrl.origin,
          evaluator: { host: config.evaluatorHost, port: config.evaluatorPort },
          paymentAddress,
          workerId,
          maxSandboxes: config.sandboxes,
          ...(config.resultBatchMs !== undefined ? { resultBatchMs: config.resultBatchMs } : {}),
          computeGroups: config.computeGroups,
          leavePublicGroup: config.leavePublicGroup,
          allowOrigins: config.allowOrigins,
          originPolicy: {
            allowLoopback: !config.strictOrigins,
            localAddresses: Object.values(networkInterfaces()).flatMap((list) =>
              (list ?? []).map((a) => a.address),
            ),
            denied: stackServices({
              schedulerUrl: config.schedulerUrl,
              services: { ...found.services },
              config: found.config,
              extra: config.stackServices,
            }),
          },
          jobIds: config.jobIds,
          minimumWage: config.minimumWage,
          ...(found.watchdogIntervalMs ? { watchdogIntervalMs: found.watchdogIntervalMs } : {}),
          logger,
        });
        supervisor.on('exit', (code) => void stop('SchedMsg', code));
        await supervisor.start();
        logger.info(
          { scheduler: config.schedulerUrl.href, paymentAddress, workerId, sandboxes: config.sandboxes },
          'supervisor started',
        );
        return;
      } catch (e) {
        if (attempt % 10 === 0)
          logger.warn({ err: (e as Error).message }, 'scheduler not reachable yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * (attempt + 1))));
      }
    }
  };

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'ok',
          service: 'worker',
          uptimeMs: Date.now() - started,
          supervisor: supervisor
            ? {
                state: supervisor.state,
                paymentAddress: supervisor.options.paymentAddress,
                sandboxes: supervisor.openSandboxes,
                slices: supervisor.slices().length,
                slicesCompleted: supervisor.slicesCompleted,
                earned: supervisor.earned,
                dcp: supervisor.dcpStats(),
              }
            : { state: config.supervisor ? 'connecting' : 'disabled' },
        }),
      );
      return;
    }
    if (path === '/readyz') {
      const [up, sched] = await Promise.all([
        // a port held by someone else (e.g. an orphaned evaluator) is not our evaluator
        evaluator?.failure ? Promise.resolve(false) : probe(config.evaluatorHost, config.evaluatorPort),
        config.supervisor ? schedulerReachable(config.schedulerUrl) : Promise.resolve(true),
      ]);
      const ready = up && sched;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ready ? 'ready' : 'not ready',
          checks: {
            evaluator: up
              ? 'ok'
              : (evaluator?.failure ?? `no evaluator at ${config.evaluatorHost}:${config.evaluatorPort}`),
            scheduler: !config.supervisor
              ? 'supervisor disabled'
              : sched
                ? 'ok'
                : `no scheduler at ${config.schedulerUrl.href}`,
          },
        }),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  });
  const at = await listen(server, config.host, config.port);
  logger.info(
    {
      url: at.url,
      evaluator: `${config.evaluatorHost}:${config.evaluatorPort}`,
      scheduler: config.schedulerUrl.href,
    },
    'listening',
  );
  if (config.supervisor) void startSupervisor();

  let signals = 0;
  const stop = async (signal: string, code = 0) => {
    signals++;
    if (signals > 2) process.exit(130);
    stopping = true;
    // safety net: whatever happens, exit after the cleanup timeout
    setTimeout(
      () => process.exit(code || 1),
      (supervisor?.options.cleanupTimeoutMs ?? 60_000) + 10_000,
    ).unref();
    logger.info({ signal, immediate: signals > 1 }, 'stopping');
    await supervisor?.stop(signals > 1);
    server.close();
    await evaluator?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
