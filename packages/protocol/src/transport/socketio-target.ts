import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { Generation } from '../messages';
import type { DcpTarget } from '../target';

export interface AttachOptions {
  /** URL prefix under which 4.x clients find the services (default '/v4'; the config endpoint hands them `/v4/...`) */
  v4Prefix?: string;
  /** generations to serve (default both) */
  generations?: Generation[];
  /** extra socket.io server options */
  serverOptions?: Partial<ServerOptions>;
}

export interface AttachedPath {
  service: string;
  generation: Generation;
  /** socket.io path, e.g. '/job-submit/dcp5/socketio' or '/v4/job-submit/' */
  path: string;
}

export interface AttachedTarget {
  paths: AttachedPath[];
  /** Disconnect every socket and stop the socket.io engines (the http server stays open). */
  close(): Promise<void>;
}

/** socket.io paths a target's services are served on: 5.x `<path>dcp5/socketio`, 4.x `<v4Prefix><path>`. */
export function socketPaths(target: DcpTarget, options: AttachOptions = {}): AttachedPath[] {
  const v4Prefix = (options.v4Prefix ?? '/v4').replace(/\/$/, '');
  const generations = options.generations ?? [5, 4];
  const out: AttachedPath[] = [];
  for (const s of target.services()) {
    for (const generation of generations)
      out.push({
        service: s.name,
        generation,
        path: generation === 5 ? `${s.path}dcp5/socketio` : `${v4Prefix}${s.path}`,
      });
  }
  // engine.io matches by prefix: overlapping paths would make two engines handle one upgrade
  const norm = out.map((p) => (p.path.endsWith('/') ? p.path : `${p.path}/`));
  for (let i = 0; i < norm.length; i++)
    for (let j = 0; j < norm.length; j++)
      if (i !== j && norm[j]!.startsWith(norm[i]!))
        throw new Error(`socket.io paths ${out[i]!.path} and ${out[j]!.path} overlap`);
  return out;
}

/**
 * Serve a DcpTarget's services on an existing http.Server (e.g. Nest's): one socket.io server per
 * service path and generation, paths never overlapping, maxHttpBufferSize 1e9.
 */
export function attachDcpTarget(
  target: DcpTarget,
  httpServer: HttpServer,
  options: AttachOptions = {},
): AttachedTarget {
  const paths = socketPaths(target, options);
  const servers: Server[] = [];
  for (const p of paths) {
    const io = new Server(httpServer, {
      path: p.path,
      maxHttpBufferSize: 1e9,
      serveClient: false,
      cors: { origin: '*', methods: ['GET', 'POST'] },
      pingInterval: 10_100,
      pingTimeout: 60_010,
      destroyUpgrade: false,
      ...options.serverOptions,
    });
    io.on('connection', (socket) => {
      target.accept(socket, {
        service: p.service,
        generation: p.generation,
        remote: socket.handshake.address,
      });
    });
    servers.push(io);
  }
  return {
    paths,
    async close() {
      for (const io of servers) {
        io.disconnectSockets(true);
        io.engine.close();
      }
    },
  };
}
