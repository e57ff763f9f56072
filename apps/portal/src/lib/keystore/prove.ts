import { api, type ApiResult } from '../api';

/** A keystore's key proof as the portal's API takes it. */
export interface KeyProof {
  challenge: string;
  signature: string;
}

/**
 * Asks the portal for a single-use challenge for `address` (bound to this session, valid for minutes)
 * and signs its text with the unlocked key. Unlock first, then call this: the signature follows at once.
 */
export async function proveKey(
  address: string,
  sign: (message: string) => Promise<string>,
): Promise<ApiResult<KeyProof>> {
  const asked = await api<{ challenge: { id: string; message: string } }>('/api/keystores/challenges', {
    body: { address },
  });
  if (!asked.ok) return asked;
  const signature = await sign(asked.data.challenge.message);
  return { ok: true, data: { challenge: asked.data.challenge.id, signature } };
}

/** Why an unlock failed, as a sentence for the page. */
export function unlockProblem(reason: 'passphrase' | 'malformed' | 'address'): string {
  switch (reason) {
    case 'passphrase':
      return 'That passphrase does not unlock this keystore.';
    case 'address':
      return 'The keystore unlocks but its key is not the address it records; it cannot be proven.';
    default:
      return 'The keystore is damaged and cannot be decrypted.';
  }
}
