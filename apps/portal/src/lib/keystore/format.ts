import { z } from 'zod';

/**
 * Ethereum v3 keystores as dcp-client reads them (ethereumjs-wallet `fromV3`, non-strict; see
 * docs/protocol.md §8): `crypto` (or geth/ethers' `Crypto`) with aes-128-ctr and
 * an scrypt or pbkdf2 KDF, plus DCP's optional `label`, `timestamp` and `process` fields.
 * Shared by the browser (create, upload) and the server (which validates the shape but can never
 * decrypt: it has no passphrase).
 */

export { KEYSTORE_KINDS, type KeystoreKind, keystoreFileName } from './kinds';
export const keystoreKind = z.enum(['identity', 'bank']);

const hex = (what: string) =>
  z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]+$/, `${what} must be hexadecimal`)
    .transform((s) => s.replace(/^0x/, '').toLowerCase());

export const addressSchema = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{40}$/, 'address must be 40 hexadecimal digits')
  .transform((s) => `0x${s.replace(/^0x/, '').toLowerCase()}`);

const scryptParams = z.object({
  dklen: z.number().int().min(32).max(64),
  salt: hex('kdfparams.salt'),
  n: z
    .number()
    .int()
    .min(2)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'kdfparams.n must be a power of two'),
  r: z.number().int().min(1).max(64),
  p: z.number().int().min(1).max(16),
});

const pbkdf2Params = z.object({
  dklen: z.number().int().min(32).max(64),
  salt: hex('kdfparams.salt'),
  c: z.number().int().min(1).max(10_000_000),
  prf: z.literal('hmac-sha256'),
});

const cryptoSection = z.discriminatedUnion('kdf', [
  z.object({
    cipher: z.literal('aes-128-ctr'),
    cipherparams: z.object({ iv: hex('cipherparams.iv') }),
    ciphertext: hex('ciphertext'),
    kdf: z.literal('scrypt'),
    kdfparams: scryptParams,
    mac: hex('mac'),
  }),
  z.object({
    cipher: z.literal('aes-128-ctr'),
    cipherparams: z.object({ iv: hex('cipherparams.iv') }),
    ciphertext: hex('ciphertext'),
    kdf: z.literal('pbkdf2'),
    kdfparams: pbkdf2Params,
    mac: hex('mac'),
  }),
]);

const rawKeystore = z
  .object({
    version: z.literal(3, { error: 'only version 3 keystores are supported' }),
    id: z.string().max(100).optional(),
    address: z.string().optional(),
    crypto: cryptoSection.optional(),
    Crypto: cryptoSection.optional(),
    label: z.string().max(200).optional(),
    timestamp: z.string().max(200).optional(),
    process: z.string().max(500).optional(),
  })
  .loose();

export interface V3Keystore {
  version: 3;
  id?: string;
  /** 40 lowercase hex digits without 0x, as ethereumjs and ethers write it */
  address: string;
  crypto: z.infer<typeof cryptoSection>;
  label?: string;
  timestamp?: string;
  process?: string;
  [extra: string]: unknown;
}

export type ParsedKeystore =
  | { ok: true; keystore: V3Keystore; address: string }
  | { ok: false; problems: string[] };

/** Largest keystore accepted; real ones are well under 2 KiB. */
export const MAX_KEYSTORE_BYTES = 16 * 1024;

/**
 * Validates a keystore (JSON text or parsed value) and normalizes it: `Crypto` becomes `crypto`,
 * the address is lowercase without 0x, unknown fields are kept. Returns problems a user can act on.
 */
export function parseKeystore(input: unknown): ParsedKeystore {
  let value = input;
  if (typeof input === 'string') {
    if (input.length > MAX_KEYSTORE_BYTES)
      return { ok: false, problems: ['the file is too large to be a keystore'] };
    try {
      value = JSON.parse(input.trim());
    } catch {
      return {
        ok: false,
        problems: ['the file is not JSON; a keystore is a JSON file (Ethereum v3 format)'],
      };
    }
  }
  const parsed = rawKeystore.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) =>
        i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
      ),
    };
  }
  const { Crypto, crypto, ...rest } = parsed.data;
  const section = crypto ?? Crypto;
  if (!section) return { ok: false, problems: ['crypto: the keystore has no "crypto" section'] };
  if (rest.address === undefined) {
    return {
      ok: false,
      problems: ['address: the keystore does not record its address; re-export it with its address included'],
    };
  }
  const address = addressSchema.safeParse(rest.address);
  if (!address.success) return { ok: false, problems: [`address: ${address.error.issues[0]?.message}`] };
  const keystore: V3Keystore = { ...rest, version: 3, address: address.data.slice(2), crypto: section };
  return { ok: true, keystore, address: address.data };
}
