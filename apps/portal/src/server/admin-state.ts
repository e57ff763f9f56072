import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DatabaseState, parseSnapshotName, StateError } from '@dcp-emu/db';
import { DcpErrorCode } from '@dcp-emu/protocol';

/**
 * The portal's state surface, as the Nest services' (`/admin/state` of @dcp-emu/nest-kit):
 * `GET /admin/state`, `POST /admin/state/{save,restore,clear}` with `Authorization: Bearer <token>`.
 * Served by the portal's own HTTP server in front of Next.js (the CLI's reset and snapshots need
 * every service's database). Without an admin token there is no such route.
 */
export function adminStateRoutes(opts: {
  url: string;
  dataDir: string;
  token: string | undefined;
  log?: (entry: Record<string, unknown>) => void;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const token = opts.token ?? '';
  if (!token) return () => false;
  const state = new DatabaseState({
    url: opts.url,
    dataDir: opts.dataDir,
    ...(opts.log ? { log: opts.log } : {}),
  });
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    const wanted = Buffer.from(`Bearer ${token}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  };
  const body = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > 4096) throw new StateError('body too large', 'ENOSNAPSHOT');
      chunks.push(c);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new StateError('body must be JSON', 'ENOSNAPSHOT');
    }
  };
  const run = async (req: IncomingMessage, op: string): Promise<unknown> => {
    if (req.method === 'GET' && op === '') return state.info();
    if (req.method !== 'POST') return undefined;
    if (op === '/save') return state.save(parseSnapshotName(await body(req)));
    if (op === '/restore') return state.restore(parseSnapshotName(await body(req)));
    if (op === '/clear') return state.clear();
    return undefined;
  };
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '');
    if (path !== '/admin/state' && !path.startsWith('/admin/state/')) return false;
    if (!authorized(req)) {
      send(res, 401, { error: { code: DcpErrorCode.EPERM, message: 'admin token required' } });
      return true;
    }
    run(req, path.slice('/admin/state'.length)).then(
      (out) =>
        out === undefined
          ? send(res, 404, { error: { code: DcpErrorCode.ENOENT, message: `no ${req.method} ${path}` } })
          : send(res, 200, out),
      (e: unknown) => {
        if (e instanceof StateError) {
          const status = e.code === 'ENOSNAPSHOT' ? 404 : e.code === 'EUNSUPPORTED' ? 501 : 409;
          send(res, status, { error: { code: e.code, message: e.message } });
          return;
        }
        opts.log?.({ msg: 'state operation failed', err: String(e) });
        send(res, 500, {
          error: { code: DcpErrorCode.EINTERNAL, message: e instanceof Error ? e.message : String(e) },
        });
      },
    );
    return true;
  };
}
