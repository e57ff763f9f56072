import { DcpErrorCode } from '@dcp-emu/protocol';
import { parseKeystore } from '../../lib/keystore/format';
import type { Clock, Ids, KeyChallengeStore, KeystoreStore, KeystoreSummary } from '../ports';
import { fail, ok, type Result } from '../result';
import { validate } from '../validation';
import { verifyKeyProof } from './key-proof.usecase';
import { saveKeystoreBody } from './keystore-body';

export interface KeystoreDeps {
  keystores: KeystoreStore;
  ids: Ids;
  clock: Clock;
  challenges: KeyChallengeStore;
}

/** Fields that could carry a clear key; an encrypted keystore never has them. */
const CLEAR_KEY_FIELDS = [
  'privateKey',
  'private_key',
  'privkey',
  'mnemonic',
  'seed',
  'passphrase',
  'password',
];

/**
 * Stores an encrypted keystore for the signed-in user. The server checks the v3 shape and keeps the
 * address and label; it cannot decrypt (it never receives a passphrase) and refuses anything that
 * looks like a clear key. With a `proof` (a challenge of this session signed by the keystore's key) it
 * is stored proven; a proof that does not hold stores nothing. Without one it is stored unproven.
 */
export async function saveKeystore(
  deps: KeystoreDeps,
  userId: string,
  body: unknown,
  sessionId?: string,
): Promise<Result<KeystoreSummary>> {
  const input = validate(saveKeystoreBody, body);
  if (!input.ok) return input;
  const parsed = parseKeystore(input.value.keystore);
  if (!parsed.ok) {
    return fail(
      DcpErrorCode.EINVAL,
      `this is not a keystore dcp-client can read: ${parsed.problems[0]}`,
      'keystore',
    );
  }
  const leaked = CLEAR_KEY_FIELDS.find((f) =>
    Object.keys(parsed.keystore).some((k) => k.toLowerCase() === f.toLowerCase()),
  );
  if (leaked) {
    return fail(
      DcpErrorCode.EINVAL,
      `the keystore carries a "${leaked}" field; upload only encrypted keystores`,
      'keystore',
    );
  }
  let provenAt: Date | null = null;
  if (input.value.proof !== undefined) {
    if (sessionId === undefined)
      return fail(DcpErrorCode.EPERM, 'a key can only be proven from a signed-in session', 'proof');
    const proven = verifyKeyProof(deps, { userId, sessionId }, parsed.address, input.value.proof);
    if (!proven.ok) return fail(proven.error.code, proven.error.message, 'proof');
    provenAt = new Date(deps.clock.now());
  }
  const keystore = { ...parsed.keystore, label: input.value.label };
  const saved = await deps.keystores.create({
    id: deps.ids.next(),
    userId,
    kind: input.value.kind,
    label: input.value.label,
    address: parsed.address,
    json: JSON.stringify(keystore),
    createdAt: new Date(deps.clock.now()),
    provenAt,
  });
  if (saved === 'duplicate') {
    return fail(
      DcpErrorCode.EDUP,
      `you already saved this ${input.value.kind === 'identity' ? 'identity' : 'bank account'} keystore (${parsed.address})`,
      'keystore',
    );
  }
  return ok(saved);
}
