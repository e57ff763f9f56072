import { createServer } from 'node:http';
import { createLogger } from '@dcp-emu/service-kit';
import next from 'next';
import { adminStateRoutes } from './src/server/admin-state';
import { loadPortalConfig } from './src/server/config';
import { attachLive } from './src/server/live/live-server';
import { getPortal, resetPortal } from './src/server/portal';

/**
 * The portal's process: Next.js (pages and the REST API) plus the `/api/live` WebSocket on the same
 * port. `npm start` runs it with `node --conditions=source --import tsx server.ts`.
 */
async function main(): Promise<void> {
  const config = loadPortalConfig();
  const logger = createLogger('portal', config.logLevel);
  const dev = process.env.NODE_ENV !== 'production';
  const app = next({ dev, dir: __dirname, hostname: config.host, port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const nextUpgrade = app.getUpgradeHandler();
  const live = attachLive(getPortal, {
    intervalMs: Number(process.env.DCP_EMU_PORTAL_LIVE_INTERVAL_MS ?? 500),
  });
  const adminState = adminStateRoutes({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    token: process.env.DCP_EMU_ADMIN_TOKEN,
    log: (entry) => logger.info(entry),
  });
  const server = createServer((req, res) => {
    if (adminState(req, res)) return;
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: String(error), url: req.url }, 'request failed');
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!live.handleUpgrade(req, socket, head)) void nextUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ url: `http://${config.host}:${port}/`, live: '/api/live' }, 'listening');
  const stop = () => {
    live.close();
    server.close();
    server.closeAllConnections();
    void resetPortal().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
