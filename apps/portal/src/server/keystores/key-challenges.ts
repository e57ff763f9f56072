import type { KeyChallengeRecord, KeyChallengeStore } from '../ports';

/** Outstanding challenges one session may hold; asking for more drops its oldest. */
export const MAX_CHALLENGES_PER_SESSION = 16;

/**
 * Key challenges in memory (per portal process, like the sign-in throttle): they live for minutes,
 * and a restart only means the page asks for a new one.
 */
export function memoryKeyChallenges(): KeyChallengeStore {
  const byId = new Map<string, KeyChallengeRecord>();
  return {
    put(challenge) {
      const ofSession = [...byId.values()].filter((c) => c.sessionId === challenge.sessionId);
      for (const old of ofSession.slice(0, Math.max(0, ofSession.length - MAX_CHALLENGES_PER_SESSION + 1)))
        byId.delete(old.id);
      byId.set(challenge.id, challenge);
    },
    take(id) {
      const found = byId.get(id) ?? null;
      byId.delete(id);
      return found;
    },
    sweep(now) {
      for (const [id, c] of byId) if (c.expiresAt.getTime() <= now.getTime()) byId.delete(id);
    },
  };
}
