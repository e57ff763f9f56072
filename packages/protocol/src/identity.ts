import { fromHex, toHex } from './bytes';
import {
  type CryptoPort,
  addressOfPublicKey,
  getDefaultCrypto,
  signPersonal,
  toChecksumAddress,
  type WireSignature,
} from './crypto/port';

/** A secp256k1 key that signs DCP messages: the `owner` of sealed envelopes and `auth` signatures. */
export class Identity {
  /** EIP-55 checksummed address. */
  readonly address: string;
  readonly crypto: CryptoPort;
  readonly #privateKey: Uint8Array;

  private constructor(privateKey: Uint8Array, crypto: CryptoPort) {
    if (privateKey.length !== 32) throw new TypeError('private key must be 32 bytes');
    this.#privateKey = privateKey;
    this.crypto = crypto;
    this.address = toChecksumAddress(crypto, addressOfPublicKey(crypto, crypto.publicKey(privateKey)));
  }

  static fromPrivateKey(privateKey: string | Uint8Array, crypto: CryptoPort = getDefaultCrypto()): Identity {
    return new Identity(
      typeof privateKey === 'string' ? fromHex(privateKey) : Uint8Array.from(privateKey),
      crypto,
    );
  }

  static random(crypto: CryptoPort = getDefaultCrypto()): Identity {
    for (;;) {
      const key = new Uint8Array(32);
      globalThis.crypto.getRandomValues(key);
      try {
        return new Identity(key, crypto);
      } catch {
        // astronomically unlikely invalid scalar; draw again
      }
    }
  }

  /** 0x-prefixed hex private key (for writing keystores). */
  get privateKeyHex(): string {
    return `0x${toHex(this.#privateKey)}`;
  }

  /** EIP-191 personal-sign of a string (DCP signs `JSON.stringify(body)`). */
  sign(message: string): WireSignature {
    return signPersonal(this.crypto, this.#privateKey, message);
  }

  toString(): string {
    return this.address;
  }

  toJSON(): string {
    return this.address;
  }
}
