import { keccak_256 } from './noble-modules';
import secp256k1 from 'secp256k1';
import type { CryptoPort } from './port';

/** Node-only: the native libsecp256k1 binding (≈15k recover/s) with noble's keccak. */
export const nativeCrypto: CryptoPort = {
  name: 'secp256k1-native',
  keccak256: (data) => keccak_256(data),
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
