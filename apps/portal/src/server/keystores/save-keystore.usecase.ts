import { DcpErrorCode } from '@dcp-emu/protocol';
import { parseKeystore } from '../../lib/keystore/format';
import type { Clock, Ids, KeystoreStore, KeystoreSummary } from '../ports';
import { fail, ok, type Result } from '../result';
import { validate } from '../validation';
import { saveKeystoreBody } from './keystore-body';

export interface KeystoreDeps {
  keystores: KeystoreStore;
  ids: Ids;
  clock: Clock;
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
 * looks like a clear key.
 */
export async function saveKeystore(
  deps: KeystoreDeps,
  userId: string,
  body: unknown,
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
  const keystore = { ...parsed.keystore, label: input.value.label };
  const saved = await deps.keystores.create({
    id: deps.ids.next(),
    userId,
    kind: input.value.kind,
    label: input.value.label,
    address: parsed.address,
    json: JSON.stringify(keystore),
    createdAt: deps.clock.now(),
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
