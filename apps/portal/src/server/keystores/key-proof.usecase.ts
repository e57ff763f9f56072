import { randomBytes } from 'node:crypto';
import { type CryptoPort, DcpErrorCode, getDefaultCrypto, recoverPersonal } from '@dcp-emu/protocol';
import { z } from 'zod';
import type { Clock, KeyChallengeStore, KeystoreStore, KeystoreSummary } from '../ports';
import { fail, ok, type Result } from '../result';
import { validate } from '../validation';

/** How long a challenge can be answered: the page unlocks the keystore first, then asks and signs at once. */
export const KEY_CHALLENGE_TTL_MS = 5 * 60_000;

export interface KeyProofDeps {
  challenges: KeyChallengeStore;
  clock: Clock;
  /** secp256k1 recovery; the protocol package's default when omitted */
  crypto?: CryptoPort;
  /** 32 random bytes as hex; tests may fix it */
  random?: () => string;
}

/** The signed-in browser asking or answering: challenges are bound to its session. */
export interface ProverSession {
  userId: string;
  sessionId: string;
}

export const challengeBody = z.object({
  address: z
    .string({ error: 'send the address of the key to prove' })
    .regex(/^0x[0-9a-fA-F]{40}$/, 'an address is 0x followed by 40 hexadecimal digits')
    .transform((a) => a.toLowerCase()),
});

/** A keystore's proof: the challenge's id and its message signed (EIP-191 personal_sign) with the key. */
export const keyProofSchema = z.object({
  challenge: z.string().regex(/^[0-9a-f]{64}$/, 'a challenge id from POST /api/keystores/challenges'),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte hex signature'),
});
export type KeyProof = z.infer<typeof keyProofSchema>;

export interface KeyChallenge {
  id: string;
  address: string;
  /** the exact text to sign with personal_sign */
  message: string;
  expiresAt: Date;
}

export function keyChallengeMessage(c: { address: string; id: string; expiresAt: Date }): string {
  return [
    'dcp-emu portal: I hold the key of this address.',
    `address: ${c.address}`,
    `challenge: ${c.id}`,
    `expires: ${c.expiresAt.toISOString()}`,
    'Signing this proves the key to the portal session that asked; it moves no money.',
  ].join('\n');
}

/** A fresh challenge for one address, answerable once, by this session only, for a few minutes. */
export function issueKeyChallenge(
  deps: KeyProofDeps,
  session: ProverSession,
  body: unknown,
): Result<KeyChallenge> {
  const input = validate(challengeBody, body);
  if (!input.ok) return input;
  const now = new Date(deps.clock.now());
  deps.challenges.sweep(now);
  const id = deps.random?.() ?? randomBytes(32).toString('hex');
  const expiresAt = new Date(now.getTime() + KEY_CHALLENGE_TTL_MS);
  const address = input.value.address;
  const message = keyChallengeMessage({ address, id, expiresAt });
  deps.challenges.put({ id, sessionId: session.sessionId, address, message, expiresAt });
  return ok({ id, address, message, expiresAt });
}

const GONE = 'this key challenge is unknown, used or expired; ask for a new one and sign it';

/**
 * Checks a proof for `address`: the challenge exists, was issued to this session for this address,
 * has not expired, and its message is signed by that address's key. The challenge is consumed
 * whatever the outcome, so no answer is accepted twice.
 */
export function verifyKeyProof(
  deps: KeyProofDeps,
  session: ProverSession,
  address: string,
  proof: unknown,
): Result<{ address: string }> {
  const input = validate(keyProofSchema, proof);
  if (!input.ok) return input;
  const challenge = deps.challenges.take(input.value.challenge);
  if (!challenge || challenge.sessionId !== session.sessionId) return fail(DcpErrorCode.EEXPIRED, GONE);
  if (challenge.expiresAt.getTime() <= deps.clock.now()) return fail(DcpErrorCode.EEXPIRED, GONE);
  const wanted = address.toLowerCase();
  if (challenge.address !== wanted)
    return fail(
      DcpErrorCode.EBADSIG,
      `the challenge was issued for ${challenge.address}, not for this keystore's ${wanted}`,
    );
  const hex = input.value.signature.slice(2);
  const signature = { r: hex.slice(0, 64), s: hex.slice(64, 128), v: Number.parseInt(hex.slice(128), 16) };
  const signer = recoverPersonal(deps.crypto ?? getDefaultCrypto(), challenge.message, signature);
  if (signer !== wanted)
    return fail(DcpErrorCode.EBADSIG, `the signature is not by the key of ${wanted}; nothing was proven`);
  return ok({ address: wanted });
}

const NOT_FOUND = 'no such keystore in your account; it may have been deleted';
const keystoreId = z.uuid();

/** The "Prove" action: marks one of the user's stored keystores proven once its key signed a challenge. */
export async function proveKeystore(
  deps: KeyProofDeps & { keystores: KeystoreStore },
  session: ProverSession,
  id: string,
  body: unknown,
): Promise<Result<KeystoreSummary>> {
  if (!keystoreId.safeParse(id).success) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  const found = await deps.keystores.get(session.userId, id);
  if (!found) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  const proven = verifyKeyProof(deps, session, found.address, body);
  if (!proven.ok) return proven;
  const marked = await deps.keystores.markProven(session.userId, id, new Date(deps.clock.now()));
  return marked ? ok(marked) : fail(DcpErrorCode.ENOENT, NOT_FOUND);
}
