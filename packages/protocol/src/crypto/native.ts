import secp256k1 from 'secp256k1';
import { keccak_256 } from './noble-modules';
import type { CryptoPort } from './port';

type KeccakFactory = (algorithm: 'keccak256') => { update(data: Buffer): { digest(): Buffer } };

/**
 * The native `keccak` binding when it is resolvable (it comes with dcp-client's dependencies; about
 * twice as fast as noble's JS keccak for message-sized inputs); noble otherwise.
 */
function pickKeccak(): { name: string; hash: (data: Uint8Array) => Uint8Array } {
  try {
    const create = require('keccak/bindings') as KeccakFactory;
    const hash = (data: Uint8Array) =>
      create('keccak256')
        .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
        .digest();
    const probe = new Uint8Array([1, 2, 3]);
    if (Buffer.from(hash(probe)).equals(Buffer.from(keccak_256(probe))))
      return { name: 'keccak-native', hash };
  } catch {
    // not installed or no native build: use noble
  }
  return { name: 'keccak-noble', hash: (data) => keccak_256(data) };
}

const keccak = pickKeccak();

/** Node-only: the native libsecp256k1 binding (≈15k recover/s on an idle core) and native keccak. */
export const nativeCrypto: CryptoPort = {
  name: `secp256k1-native+${keccak.name}`,
  keccak256: keccak.hash,
  publicKey: (privateKey) => secp256k1.publicKeyCreate(privateKey, false),
  sign(hash, privateKey) {
    const { signature, recid } = secp256k1.ecdsaSign(hash, privateKey);
    return { r: signature.slice(0, 32), s: signature.slice(32, 64), recovery: recid };
  },
  recover(hash, r, s, recovery) {
    try {
      const sig = new Uint8Array(64);
      sig.set(r, 0);
      sig.set(s, 32);
      return secp256k1.ecdsaRecover(sig, recovery, hash, false);
    } catch {
      return null;
    }
  },
};
