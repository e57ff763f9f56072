import type { KeystoreKind } from '../lib/keystore/kinds';

/** Side effects of the portal's use cases, swapped for real ones (Prisma) or test ones. */

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  createdAt: Date;
}

export interface UserStore {
  /** 'duplicate' when the email is taken */
  create(user: { id: string; email: string; passwordHash: string }): Promise<UserRecord | 'duplicate'>;
  findByEmail(email: string): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
}

export interface SessionRecord {
  /** sha256 of the cookie token; the token itself is never stored */
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface SessionStore {
  create(session: SessionRecord): Promise<void>;
  /** the session and its user's public fields */
  find(id: string): Promise<(SessionRecord & { email: string }) | null>;
  delete(id: string): Promise<void>;
  /** ends every session of a user but `keep` (after a password change) */
  deleteForUser(userId: string, keep?: string): Promise<number>;
  deleteExpired(now: Date): Promise<number>;
}

export interface KeystoreSummary {
  id: string;
  kind: KeystoreKind;
  label: string;
  /** 0x-prefixed lowercase */
  address: string;
  createdAt: Date;
  /**
   * when the browser proved it holds the key (signed a single-use server challenge with it); null
   * while unproven: such a keystore is stored and downloadable but grants nothing
   */
  provenAt: Date | null;
}

export interface KeystoreRecord extends KeystoreSummary {
  userId: string;
  /** the encrypted v3 JSON, exactly as it will be downloaded */
  json: string;
}

/** Every query is scoped by user: there is no way to read another user's keystore through this port. */
export interface KeystoreStore {
  /** 'duplicate' when this user already stores this address for this kind */
  create(record: KeystoreRecord): Promise<KeystoreSummary | 'duplicate'>;
  list(userId: string): Promise<KeystoreSummary[]>;
  get(userId: string, id: string): Promise<KeystoreRecord | null>;
  /** false when there was no such keystore of this user */
  delete(userId: string, id: string): Promise<boolean>;
  /** records the proof of the key; null when the user has no such keystore */
  markProven(userId: string, id: string, at: Date): Promise<KeystoreSummary | null>;
}

/** A challenge the browser signs with a key to prove it holds it. */
export interface KeyChallengeRecord {
  /** random, also the text's nonce */
  id: string;
  /** the session it was issued to (sha256 of the cookie token) */
  sessionId: string;
  /** 0x-prefixed lowercase: the only key it can prove */
  address: string;
  /** the exact text to personal_sign */
  message: string;
  expiresAt: Date;
}

/** Outstanding key challenges. `take` removes: each challenge is answered at most once. */
export interface KeyChallengeStore {
  put(challenge: KeyChallengeRecord): void;
  take(id: string): KeyChallengeRecord | null;
  /** drops the expired ones */
  sweep(now: Date): void;
}

/** A compute group the user created through the portal; the scheduler holds the group itself. */
export interface GroupRecord {
  joinKey: string;
  userId: string;
  createdAt: Date;
}

/** Which user created which compute group; every query is scoped by user. */
export interface GroupStore {
  /** 'duplicate' when the join key is recorded already */
  create(record: GroupRecord): Promise<GroupRecord | 'duplicate'>;
  list(userId: string): Promise<GroupRecord[]>;
  get(userId: string, joinKey: string): Promise<GroupRecord | null>;
  /** false when the user has no such group */
  delete(userId: string, joinKey: string): Promise<boolean>;
}

/** Time: the one Clock port of @dcp-emu/protocol. */
export { type Clock, systemClock } from '@dcp-emu/protocol';

export interface Ids {
  /** a fresh random id (UUID) */
  next(): string;
}
