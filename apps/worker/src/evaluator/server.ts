import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from '@dcp-emu/service-kit';
import type { EvaluatorConfig } from './config';
import { dieLine } from './line-protocol';
import { EvaluatorManager } from './manager';
import { Session } from './session';

export interface RunningEvaluator {
  host: string;
  port: number;
  manager: EvaluatorManager;
  /** Stops listening, kills every sandbox and resolves once all connections are gone. */
  close(): Promise<void>;
}

let wasmPagesSet: number | undefined;

/** isolated-vm needs `node --no-node-snapshot` on Node 20+. */
export function hasNoNodeSnapshot(): boolean {
  return (
    process.execArgv.includes('--no-node-snapshot') ||
    /--no-node-snapshot/.test(process.env.NODE_OPTIONS ?? '')
  );
}

/**
 * Starts the evaluator: a TCP server speaking DCP's evaluator line protocol, one isolate per
 * connection, behind the evaluator manager's admission and load limits.
 */
export async function startEvaluator(config: EvaluatorConfig, logger: Logger): Promise<RunningEvaluator> {
  if (wasmPagesSet !== config.wasmMaxPages) {
    /* Wasm memories live outside the isolate heap limit; cap each one process-wide. */
    setFlagsFromString(`--wasm-max-mem-pages=${config.wasmMaxPages}`);
    wasmPagesSet = config.wasmMaxPages;
  }
  const manager = new EvaluatorManager(config, logger);
  const sockets = new Set<Socket>();
  const limits = {
    memoryLimitMb: config.memoryLimitMb,
    progressTimeoutMs: config.progressTimeoutMs,
    sliceCpuLimitMs: config.sliceCpuLimitMs,
    callTimeoutMs: config.callTimeoutMs,
    wasmBudgetBytes: config.wasmBudgetMb * 1024 * 1024,
    wasmMaxPages: config.wasmMaxPages,
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const session = new Session(socket, {
      limits,
      maxLineBytes: config.maxLineBytes,
      maxOutputBacklogBytes: config.maxOutputBacklogMb * 1024 * 1024,
      logger,
    });
    if (!manager.admit(session)) {
      logger.warn({ sandboxes: manager.size }, 'sandbox refused: evaluator at its sandbox limit');
      socket.end(`${dieLine(`evaluator at its limit of ${config.maxSandboxes} sandboxes`)}\n`);
      return;
    }
    logger.debug({ sandboxes: manager.size }, 'sandbox started');
    void session.done.then((exit) => {
      logger.debug({ code: exit.code, reason: exit.message }, 'sandbox ended');
      if (exit.code) logger.info({ code: exit.code, reason: exit.message }, 'sandbox killed');
    });
    void session.start();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  logger.info({ host: addr.address, port: addr.port }, 'evaluator listening');

  return {
    host: addr.address,
    port: addr.port,
    manager,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      manager.killAll('evaluator shutting down');
      manager.stop();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
