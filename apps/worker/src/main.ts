import { createServer } from 'node:http';
import { ConfigError, createLogger, listen } from '@dcp-emu/service-kit';
import { loadWorkerConfig } from './config';
import { EvaluatorProcess, probe } from './evaluator-process';

/**
 * The worker service of a dcp-emu stack: runs its evaluator and serves `/healthz` and `/readyz`
 * (ready when the evaluator accepts sandbox connections).
 */
async function main() {
  const config = loadWorkerConfig();
  const logger = createLogger('worker', config.logLevel);
  const evaluator = config.startEvaluator
    ? new EvaluatorProcess(config.evaluatorHost, config.evaluatorPort, logger)
    : undefined;
  evaluator?.start();
  const started = Date.now();
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', service: 'worker', uptimeMs: Date.now() - started }));
      return;
    }
    if (path === '/readyz') {
      const up = await probe(config.evaluatorHost, config.evaluatorPort);
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: up ? 'ready' : 'not ready',
          checks: {
            evaluator: up ? 'ok' : `no evaluator at ${config.evaluatorHost}:${config.evaluatorPort}`,
          },
        }),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  });
  const at = await listen(server, config.host, config.port);
  logger.info({ url: at.url, evaluator: `${config.evaluatorHost}:${config.evaluatorPort}` }, 'listening');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    server.close();
    await evaluator?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
