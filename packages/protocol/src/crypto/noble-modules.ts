/**
 * @noble/curves and @noble/hashes 2.x are ESM-only. This package compiles to CommonJS, so they are
 * loaded with require() (Node ≥ 20.19 loads ESM synchronously; bundlers resolve it statically) and
 * typed through resolution-mode import types.
 */
type Sha3 = typeof import('@noble/hashes/sha3.js', { with: { 'resolution-mode': 'import' }});
type Secp = typeof import('@noble/curves/secp256k1.js', { with: { 'resolution-mode': 'import' }});

export const { keccak_256 } = require('@noble/hashes/sha3.js') as Pick<Sha3, 'keccak_256'>;
export const { secp256k1 } = require('@noble/curves/secp256k1.js') as Pick<Secp, 'secp256k1'>;
