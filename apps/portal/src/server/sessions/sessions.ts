import { createHash, randomBytes } from 'node:crypto';
import type { Clock, SessionStore } from '../ports';

/** Sessions last a week from sign-in. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'dcp_emu_session';

export interface SessionDeps {
  sessions: SessionStore;
  clock: Clock;
}

export interface ActiveSession {
  sessionId: string;
  userId: string;
  email: string;
  expiresAt: Date;
}

/** The database key of a token: a stolen database does not yield usable cookies. */
export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const TOKEN_SHAPE = /^[\w-]{43}$/;

/** Starts a session; the token goes in the cookie and only its hash is stored. Expired sessions are swept here. */
export async function startSession(
  deps: SessionDeps,
  userId: string,
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const now = new Date(deps.clock.now());
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await deps.sessions.deleteExpired(now);
  await deps.sessions.create({ id: sessionIdOf(token), userId, createdAt: now, expiresAt });
  return { token, expiresAt };
}

/** The live session behind a cookie token, or null (unknown, malformed or expired; expired ones are removed). */
export async function resolveSession(
  deps: SessionDeps,
  token: string | undefined,
): Promise<ActiveSession | null> {
  if (!token || !TOKEN_SHAPE.test(token)) return null;
  const id = sessionIdOf(token);
  const found = await deps.sessions.find(id);
  if (!found) return null;
  if (found.expiresAt.getTime() <= deps.clock.now()) {
    await deps.sessions.delete(id);
    return null;
  }
  return { sessionId: id, userId: found.userId, email: found.email, expiresAt: found.expiresAt };
}

export async function endSession(deps: SessionDeps, token: string | undefined): Promise<void> {
  if (!token || !TOKEN_SHAPE.test(token)) return;
  await deps.sessions.delete(sessionIdOf(token));
}
