import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  attachDcpTarget,
  type AttachedTarget,
  DcpError,
  DcpErrorCode,
  DcpTarget,
  Identity,
  OperationRegistry,
  silentLogger,
  type TargetOptions,
} from '../node';

export interface TestTarget {
  target: DcpTarget;
  http: Server;
  attached: AttachedTarget;
  port: number;
  base: string;
  /** location of the 'echo' service */
  location: string;
  stop(): Promise<void>;
}

/** A target with one service 'echo' (ops: echo, fail, crash, push, authz, size) on a loopback port. */
export async function startTestTarget(
  options: Partial<TargetOptions> & { port?: number } = {},
): Promise<TestTarget> {
  const identity = options.identity ?? Identity.random();
  const target = new DcpTarget({ logger: silentLogger, ...options, identity });
  const registry = new OperationRegistry()
    .register({ operation: ['echo', 'echo@2'], schema: z.unknown(), handler: (data) => data })
    .register({
      operation: 'fail',
      schema: z.object({ code: z.string() }),
      handler: ({ code }) => {
        throw new DcpError(code, `failed with ${code}`);
      },
    })
    .register({
      operation: 'crash',
      schema: z.unknown(),
      handler: () => {
        throw new Error('secret internal detail');
      },
    })
    .register({
      operation: 'push',
      schema: z.object({ operation: z.string(), data: z.unknown() }),
      handler: async ({ operation, data }, ctx) => ({
        generation: ctx.generation,
        answer: await ctx.session.request(operation, data),
      }),
    })
    .register({
      operation: 'authz',
      schema: z.unknown(),
      handler: (_data, ctx) => ({ peer: ctx.peer, authorized: ctx.authorized }),
    })
    .register({
      operation: 'size',
      schema: z.object({ blob: z.string() }),
      handler: ({ blob }) => ({ length: blob.length, head: blob.slice(0, 8), tail: blob.slice(-8) }),
    });
  target.service('echo', registry);
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const attached = attachDcpTarget(target, http);
  const port = (http.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    target,
    http,
    attached,
    port,
    base,
    location: `${base}/echo/`,
    /** like a process exit: sockets drop, sessions vanish without a close */
    async stop() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await attached.close();
      for (const s of target.sessions()) s.abort(new DcpError(DcpErrorCode.EPIPE, 'stopped'));
      await closed;
    },
  };
}

/** Resolve when `predicate` holds, polling every 10 ms, failing after `ms`. */
export async function waitFor(predicate: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
