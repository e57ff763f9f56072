import { PROVIDERS } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Clock, systemClock } from '../ports';
import type { Portal } from '../portal';
import { testPortal } from '../test-portal.fixture';
import { endSession, resolveSession, SESSION_TTL_MS, sessionIdOf, startSession } from './sessions';

describe.each(PROVIDERS)('sessions on %s', (provider) => {
  let portal: Portal;
  let dispose: () => Promise<void>;
  let userId: string;
  let now = new Date('2026-01-01T00:00:00Z');
  const clock: Clock = { ...systemClock, now: () => now.getTime() };

  beforeAll(async () => {
    ({ portal, dispose } = await testPortal(provider, inject('pgUrl')));
    userId = portal.ids.next();
    await portal.users.create({ id: userId, email: 'grace@example.com', passwordHash: 'x' });
  });
  afterAll(() => dispose());

  it('stores only the hash of the token and resolves the token to its user', async () => {
    const deps = { sessions: portal.sessions, clock };
    const { token, expiresAt } = await startSession(deps, userId);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(expiresAt.getTime() - now.getTime()).toBe(SESSION_TTL_MS);
    expect(await portal.sessions.find(token)).toBeNull();
    expect(await portal.sessions.find(sessionIdOf(token))).toMatchObject({
      userId,
      email: 'grace@example.com',
    });
    expect(await resolveSession(deps, token)).toMatchObject({
      userId,
      email: 'grace@example.com',
      expiresAt,
    });
  });

  it('rejects unknown, malformed and missing tokens', async () => {
    const deps = { sessions: portal.sessions, clock };
    expect(await resolveSession(deps, undefined)).toBeNull();
    expect(await resolveSession(deps, 'x'.repeat(43))).toBeNull();
    expect(await resolveSession(deps, "'; DROP TABLE PortalSession; --")).toBeNull();
  });

  it('expires sessions after the TTL and removes them', async () => {
    const deps = { sessions: portal.sessions, clock };
    const { token } = await startSession(deps, userId);
    now = new Date(now.getTime() + SESSION_TTL_MS - 1);
    expect(await resolveSession(deps, token)).not.toBeNull();
    now = new Date(now.getTime() + 1);
    expect(await resolveSession(deps, token)).toBeNull();
    expect(await portal.sessions.find(sessionIdOf(token))).toBeNull();
  });

  it('sweeps expired sessions when a new one starts', async () => {
    const deps = { sessions: portal.sessions, clock };
    const { token: old } = await startSession(deps, userId);
    now = new Date(now.getTime() + SESSION_TTL_MS);
    await startSession(deps, userId);
    expect(await portal.sessions.find(sessionIdOf(old))).toBeNull();
  });

  it('ends a session on sign-out', async () => {
    const deps = { sessions: portal.sessions, clock };
    const { token } = await startSession(deps, userId);
    await endSession(deps, token);
    expect(await resolveSession(deps, token)).toBeNull();
  });
});
