import { decryptKeystoreJson, encryptKeystoreJson, hexlify, randomBytes, Wallet } from 'ethers';
import { parseKeystore, type V3Keystore } from './format';
import { KEYSTORE_KINDS, type KeystoreKind } from './kinds';

/**
 * Keystore creation and unlocking. These run in the browser: the passphrase and the clear private
 * key never leave it; only the encrypted JSON is sent to the server.
 */

/**
 * scrypt cost for keystores made here. dcp-client decrypts with a pure-JS scrypt on every load
 * (about 0.4 s at 2^14 on a laptop, 2.5 s at ethers' default 2^17), and dcp-client itself writes 2^10.
 */
export const KEYSTORE_SCRYPT_N = 2 ** 14;

export interface CreateKeystoreOptions {
  kind: KeystoreKind;
  /** defaults to DCP's own names: `id` / `default` */
  label?: string;
  /** may be empty: dcp-client then loads the keystore without prompting */
  passphrase: string;
  /** scrypt N; tests lower it */
  scryptN?: number;
  /** reports KDF progress 0..1 */
  onProgress?: (fraction: number) => void;
  now?: Date;
}

export interface CreatedKeystore {
  kind: KeystoreKind;
  label: string;
  /** 0x-prefixed, lowercase */
  address: string;
  keystore: V3Keystore;
  /** the file content to download */
  json: string;
  /** EIP-191 personal_sign with the new key (to prove it to the portal); the key stays in this closure */
  sign(message: string): Promise<string>;
}

/** A keystore unlocked in the browser: its address and a signer; the clear key is not exposed. */
export interface UnlockedKeystore {
  /** 0x-prefixed, lowercase: the address the key really controls */
  address: string;
  sign(message: string): Promise<string>;
}

/**
 * Generates a fresh secp256k1 key and encrypts it into a v3 keystore that the unmodified dcp-client
 * accepts: lowercase `crypto`, aes-128-ctr, scrypt (dklen 32), plus DCP's `label`, `timestamp`, `process`.
 */
export async function createKeystore(options: CreateKeystoreOptions): Promise<CreatedKeystore> {
  const label = (options.label ?? '').trim() || KEYSTORE_KINDS[options.kind].defaultLabel;
  // A bare key (no mnemonic), so the JSON has no ethers-specific "x-ethers" section.
  const wallet = new Wallet(hexlify(randomBytes(32)));
  const text = await encryptKeystoreJson(wallet, options.passphrase, {
    scrypt: { N: options.scryptN ?? KEYSTORE_SCRYPT_N, r: 8, p: 1 },
    progressCallback: options.onProgress,
  });
  const { Crypto, ...rest } = JSON.parse(text) as Record<string, unknown>;
  const dcp = {
    ...rest,
    crypto: Crypto,
    label,
    timestamp: (options.now ?? new Date()).toString(),
    process: 'dcp-emu portal',
  };
  const parsed = parseKeystore(dcp);
  if (!parsed.ok) throw new Error(`created keystore is malformed: ${parsed.problems.join('; ')}`);
  if (parsed.address !== wallet.address.toLowerCase())
    throw new Error('created keystore records the wrong address');
  return {
    kind: options.kind,
    label,
    address: parsed.address,
    keystore: parsed.keystore,
    json: JSON.stringify(parsed.keystore),
    sign: (message) => wallet.signMessage(message),
  };
}

/**
 * Decrypts a keystore with the passphrase the user typed, for signing a key challenge; refuses a
 * keystore whose key is not the address it records.
 */
export async function unlockKeystore(
  json: string,
  passphrase: string,
  onProgress?: (fraction: number) => void,
): Promise<
  { ok: true; unlocked: UnlockedKeystore } | { ok: false; reason: 'passphrase' | 'malformed' | 'address' }
> {
  const parsed = parseKeystore(json);
  if (!parsed.ok) return { ok: false, reason: 'malformed' };
  let wallet: Wallet;
  try {
    const account = await decryptKeystoreJson(JSON.stringify(parsed.keystore), passphrase, onProgress);
    wallet = new Wallet(account.privateKey);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // ethers itself refuses a keystore whose key does not match its recorded address
    if (/mismatch/i.test(message)) return { ok: false, reason: 'address' };
    return { ok: false, reason: /password/i.test(message) ? 'passphrase' : 'malformed' };
  }
  const address = wallet.address.toLowerCase();
  if (address !== parsed.address) return { ok: false, reason: 'address' };
  return { ok: true, unlocked: { address, sign: (message) => wallet.signMessage(message) } };
}

export type UnlockResult = { ok: true; address: string } | { ok: false; reason: 'passphrase' | 'malformed' };

/**
 * Decrypts a keystore in the browser to check a passphrase; resolves with the address the key
 * really controls. The private key is dropped at once.
 */
export async function checkPassphrase(
  json: string,
  passphrase: string,
  onProgress?: (fraction: number) => void,
): Promise<UnlockResult> {
  const parsed = parseKeystore(json);
  if (!parsed.ok) return { ok: false, reason: 'malformed' };
  try {
    const account = await decryptKeystoreJson(JSON.stringify(parsed.keystore), passphrase, onProgress);
    return { ok: true, address: account.address.toLowerCase() };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, reason: /password/i.test(message) ? 'passphrase' : 'malformed' };
  }
}
