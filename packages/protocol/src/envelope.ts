import { type CryptoPort, getDefaultCrypto, isAddress, recoverPersonal } from './crypto/port';
import { DcpError, DcpErrorCode } from './errors';
import type { Identity } from './identity';

/** A parsed sealed message `{owner, signature, body}`. */
export interface Envelope<B = Record<string, unknown>> {
  owner: string;
  signature: unknown;
  body: B;
}

/**
 * Seal a body: `JSON.stringify({owner, signature, body})` where signature is the EIP-191 personal
 * signature over exactly `JSON.stringify(body)`.
 */
export function seal(identity: Identity, body: object): string {
  const bodyJson = JSON.stringify(body);
  const signature = JSON.stringify(identity.sign(bodyJson));
  return `{"owner":${JSON.stringify(identity.address)},"signature":${signature},"body":${bodyJson}}`;
}

/** Parse a sealed string without checking the signature; throws DcpError(EINVAL) when malformed. */
export function parseEnvelope(sealed: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(sealed);
  } catch {
    throw new DcpError(DcpErrorCode.EINVAL, 'malformed message: not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new DcpError(DcpErrorCode.EINVAL, 'malformed message: not an object');
  const { owner, signature, body } = parsed as Record<string, unknown>;
  if (typeof owner !== 'string') throw new DcpError(DcpErrorCode.EINVAL, 'message is missing owner');
  if (!signature) throw new DcpError(DcpErrorCode.EINVAL, 'message is missing signature');
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new DcpError(DcpErrorCode.EINVAL, 'message is missing body');
  return { owner, signature, body: body as Record<string, unknown> };
}

/** Verify that the envelope's signature recovers to its owner; throws DcpError(EBADSIG) otherwise. */
export function verifyEnvelope(envelope: Envelope, crypto: CryptoPort = getDefaultCrypto()): void {
  if (!isAddress(crypto, envelope.owner))
    throw new DcpError(DcpErrorCode.EBADSIG, `invalid owner address ${String(envelope.owner).slice(0, 50)}`);
  const signer = recoverPersonal(crypto, JSON.stringify(envelope.body), envelope.signature);
  if (!signer || signer !== envelope.owner.toLowerCase())
    throw new DcpError(DcpErrorCode.EBADSIG, 'message has invalid signature');
}

/** Parse and verify a sealed message. */
export function open(sealed: string, crypto: CryptoPort = getDefaultCrypto()): Envelope {
  const envelope = parseEnvelope(sealed);
  verifyEnvelope(envelope, crypto);
  return envelope;
}
