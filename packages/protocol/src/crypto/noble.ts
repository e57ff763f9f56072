import { keccak_256, secp256k1 } from './noble-modules';
import type { CryptoPort } from './port';

/** Pure-JS crypto (@noble/curves, @noble/hashes): works in browsers; slower than the native binding. */
export const nobleCrypto: CryptoPort = {
  name: 'noble',
  keccak256: (data) => keccak_256(data),
  publicKey: (privateKey) => secp256k1.getPublicKey(privateKey, false),
  sign(hash, privateKey) {
    const sig = secp256k1.sign(hash, privateKey, { prehash: false, format: 'recovered' });
    // 'recovered' format: recovery byte first, then r (32) and s (32)
    return { recovery: sig[0]!, r: sig.slice(1, 33), s: sig.slice(33, 65) };
  },
  recover(hash, r, s, recovery) {
    try {
      const sig = new Uint8Array(65);
      sig[0] = recovery;
      sig.set(r, 1);
      sig.set(s, 33);
      return secp256k1.Signature.fromBytes(sig, 'recovered').recoverPublicKey(hash).toBytes(false);
    } catch {
      return null;
    }
  },
};
