import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decryptKeystoreJsonSync, encryptKeystoreJsonSync } from 'ethers';
import type { CryptoPort } from './crypto/port';
import { Identity } from './identity';

export interface KeystoreOptions {
  /** passphrase (default '' — dcp-client never prompts for empty-passphrase keystores) */
  passphrase?: string;
  /** DCP's `label` field, e.g. 'id' or 'default' */
  label?: string;
  /** scrypt N (default 1024, what dcp-client writes; keeps creation fast) */
  scryptN?: number;
}

/** Ethereum v3 keystore JSON (scrypt, aes-128-ctr) with DCP's label/timestamp/process fields. */
export function keystoreJson(identity: Identity, options: KeystoreOptions = {}): string {
  const json = encryptKeystoreJsonSync(
    { address: identity.address, privateKey: identity.privateKeyHex },
    options.passphrase ?? '',
    { scrypt: { N: options.scryptN ?? 1024, r: 8, p: 1 } },
  );
  const v3 = JSON.parse(json) as Record<string, unknown>;
  const { 'x-ethers': _ethers, Crypto, crypto, ...rest } = v3;
  return JSON.stringify({
    ...rest,
    id: typeof rest.id === 'string' ? rest.id : randomUUID(),
    crypto: crypto ?? Crypto,
    label: options.label ?? 'default',
    timestamp: new Date().toString(),
    process: 'dcp-emu',
  });
}

/** Decrypt a v3 keystore (JSON text) into an Identity. */
export function identityFromKeystore(json: string, passphrase = '', crypto?: CryptoPort): Identity {
  const account = decryptKeystoreJsonSync(json, passphrase);
  return Identity.fromPrivateKey(account.privateKey, crypto);
}

/** Write a keystore file (mode 0600), creating its directory. */
export function writeKeystoreFile(file: string, identity: Identity, options: KeystoreOptions = {}): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, keystoreJson(identity, options), { mode: 0o600 });
  renameSync(tmp, file);
}

export function readKeystoreFile(file: string, passphrase = '', crypto?: CryptoPort): Identity {
  return identityFromKeystore(readFileSync(file, 'utf8'), passphrase, crypto);
}

/**
 * The target identity: load `file` if it exists, otherwise create a key and write it once. Racing
 * creators agree on one key (exclusive create). The key must stay the same across restarts, since
 * clients pin it in identity-cache.json.
 */
export function loadOrCreateIdentity(
  file: string,
  options: KeystoreOptions = {},
  crypto?: CryptoPort,
): Identity {
  try {
    return readKeystoreFile(file, options.passphrase ?? '', crypto);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const identity = Identity.random(crypto);
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, keystoreJson(identity, { label: 'dcp-emu', ...options }), {
      mode: 0o600,
      flag: 'wx',
    });
    return identity;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readKeystoreFile(file, options.passphrase ?? '', crypto);
  }
}

/**
 * Write the two files unmodified dcp-client needs in its resource dir (`~/.dcp`): `id.keystore`
 * (identity) and `default.keystore` (bank account), both with an empty passphrase.
 */
export function writeClientKeystores(
  dir: string,
  keys: { identity?: Identity; account?: Identity } = {},
): { identity: Identity; account: Identity } {
  const identity = keys.identity ?? Identity.random();
  const account = keys.account ?? Identity.random();
  writeKeystoreFile(`${dir}/id.keystore`, identity, { label: 'id' });
  writeKeystoreFile(`${dir}/default.keystore`, account, { label: 'default' });
  return { identity, account };
}
