import { concatBytes, fromHex, toHex, utf8 } from '../bytes';

/**
 * The crypto side effects DCP needs: keccak-256 and secp256k1 sign/recover. Node uses the native
 * binding (`@dcp-emu/protocol/node`), browsers use @noble/curves; both are synchronous.
 */
export interface CryptoPort {
  readonly name: string;
  keccak256(data: Uint8Array): Uint8Array;
  /** 65-byte uncompressed public key of a 32-byte private key. */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** Sign a 32-byte hash; recovery is 0 or 1. */
  sign(hash: Uint8Array, privateKey: Uint8Array): { r: Uint8Array; s: Uint8Array; recovery: number };
  /** 65-byte uncompressed public key, or null when the signature does not recover. */
  recover(hash: Uint8Array, r: Uint8Array, s: Uint8Array, recovery: number): Uint8Array | null;
}

/** DCP's wire form of a signature: r/s as Node Buffer JSON, v = 27 + recovery. */
export interface WireSignature {
  r: { type: 'Buffer'; data: number[] };
  s: { type: 'Buffer'; data: number[] };
  v: number;
}

let defaultCrypto: CryptoPort | undefined;

/** The crypto used when none is passed explicitly. `@dcp-emu/protocol/node` installs the native one. */
export function setDefaultCrypto(port: CryptoPort): void {
  defaultCrypto = port;
}

export function getDefaultCrypto(): CryptoPort {
  if (!defaultCrypto) throw new Error('no default CryptoPort installed');
  return defaultCrypto;
}

/** EIP-191 personal-message hash: keccak256("\x19Ethereum Signed Message:\n" + byteLength + bytes). */
export function personalHash(crypto: CryptoPort, message: string): Uint8Array {
  const bytes = utf8(message);
  return crypto.keccak256(concatBytes(utf8(`\x19Ethereum Signed Message:\n${bytes.length}`), bytes));
}

/** Lower-case 0x address of an uncompressed public key. */
export function addressOfPublicKey(crypto: CryptoPort, publicKey: Uint8Array): string {
  return `0x${toHex(crypto.keccak256(publicKey.subarray(1)).subarray(12))}`;
}

/** EIP-55 checksummed form of an address. */
export function toChecksumAddress(crypto: CryptoPort, address: string): string {
  const lower = address.toLowerCase().replace(/^0x/, '');
  const hash = toHex(crypto.keccak256(utf8(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    out += Number.parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** A valid address: lower-case, upper-case or correctly EIP-55 checksummed. */
export function isAddress(crypto: CryptoPort, value: unknown): value is string {
  if (typeof value !== 'string' || !ADDRESS_RE.test(value)) return false;
  const body = value.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) return true;
  return toChecksumAddress(crypto, value) === value;
}

export function sameAddress(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

export function signPersonal(crypto: CryptoPort, privateKey: Uint8Array, message: string): WireSignature {
  const { r, s, recovery } = crypto.sign(personalHash(crypto, message), privateKey);
  return {
    r: { type: 'Buffer', data: Array.from(r) },
    s: { type: 'Buffer', data: Array.from(s) },
    v: recovery + 27,
  };
}

function sigBytes(part: unknown): Uint8Array | null {
  const data = Array.isArray(part)
    ? part
    : part && typeof part === 'object' && Array.isArray((part as { data?: unknown }).data)
      ? (part as { data: unknown[] }).data
      : typeof part === 'string'
        ? Array.from(fromHex(part))
        : null;
  if (data?.length !== 32) return null;
  if (!data.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 256)) return null;
  return Uint8Array.from(data as number[]);
}

/** Recover the lower-case signer address of a personal-signed message; null when malformed. */
export function recoverPersonal(crypto: CryptoPort, message: string, signature: unknown): string | null {
  if (!signature || typeof signature !== 'object') return null;
  const { r, s, v } = signature as { r?: unknown; s?: unknown; v?: unknown };
  let rb: Uint8Array | null;
  let sb: Uint8Array | null;
  try {
    rb = sigBytes(r);
    sb = sigBytes(s);
  } catch {
    return null;
  }
  if (!rb || !sb || typeof v !== 'number') return null;
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) return null;
  const pub = crypto.recover(personalHash(crypto, message), rb, sb, recovery);
  return pub ? addressOfPublicKey(crypto, pub) : null;
}
