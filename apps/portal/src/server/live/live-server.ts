import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { SESSION_COOKIE, resolveSession } from '../sessions/sessions';
import type { Portal } from '../portal';
import { LiveSession, type ServerMessage } from './live-hub';
import { topicReader } from './topics';

export const LIVE_PATH = '/api/live';

export interface AttachLiveOptions {
  intervalMs?: number;
  maxTopics?: number;
  /** most bytes one browser message may have */
  maxPayload?: number;
  /** how often an open socket's session is checked again; a signed-out browser is disconnected (ms) */
  sessionCheckMs?: number;
}

/** Close code for a socket whose session ended (signed out, expired, password changed). */
export const SESSION_ENDED = 4001;

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || undefined;
  }
  return undefined;
}

/** A WebSocket handshake from another site is refused (the session cookie would ride along). */
function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === (request.headers['x-forwarded-host'] ?? request.headers.host);
  } catch {
    return false;
  }
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

/**
 * Serves `/api/live` on `server`: the session cookie is checked on upgrade (401 without a live
 * session, 403 cross-site), then the browser subscribes to topics and gets their states pushed as
 * they change. Returns a function that answers whether it took an upgrade (others go to Next).
 */
export function attachLive(
  portal: () => Promise<Portal>,
  options: AttachLiveOptions = {},
): {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
} {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 4096 });
  const sessions = new Set<LiveSession>();
  return {
    handleUpgrade(request, socket, head) {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path !== LIVE_PATH) return false;
      if (!sameOrigin(request)) {
        refuse(socket, 403, 'Forbidden');
        return true;
      }
      void (async () => {
        const p = await portal();
        const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
        const session = await resolveSession(p, token);
        if (!session) {
          refuse(socket, 401, 'Unauthorized');
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
          const send = (message: ServerMessage) => {
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
          };
          const live = new LiveSession(
            session.userId,
            { send },
            {
              intervalMs: options.intervalMs ?? 500,
              maxTopics: options.maxTopics ?? 16,
              readerFor: (topic) => topicReader(p, topic),
            },
          );
          sessions.add(live);
          const recheck = setInterval(() => {
            void resolveSession(p, token).then((still) => {
              if (!still) ws.close(SESSION_ENDED, 'signed out');
            });
          }, options.sessionCheckMs ?? 30_000);
          recheck.unref?.();
          ws.on('message', (data) => live.receive(data.toString()));
          ws.on('close', () => {
            clearInterval(recheck);
            live.close();
            sessions.delete(live);
          });
          ws.on('error', () => ws.terminate());
        });
      })().catch(() => refuse(socket, 500, 'Internal Server Error'));
      return true;
    },
    close() {
      for (const s of sessions) s.close();
      sessions.clear();
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
