/**
 * A session's messages on the wire: what we queue to send (OutEntry) and what is on deck waiting for
 * its ack, their network form (allow/auth for authorized resources, jsonData inside batches), the
 * verification of a received envelope, and error payloads ↔ DcpError.
 */
import { type CryptoPort, isAddress, sameAddress } from './crypto/port';
import { type Envelope, parseEnvelope, verifyEnvelope } from './envelope';
import { DcpError, DcpErrorCode, type ErrorPayload } from './errors';
import type { Identity } from './identity';
import type { Validity } from './messages';
import type { MessageLink } from './transport/frames';

export type EntryKind = 'request' | 'response' | 'notification';

export interface OutEntry {
  kind: EntryKind;
  id: string;
  payload: unknown;
  success?: boolean;
  authorize?: Identity[];
  noBatch?: boolean;
  isConnect?: boolean;
  /** called once the message has been written to a link */
  onSent?: () => void;
  /** request: settled by the response; response/notification: settled by the ack */
  resolve: (payload: unknown) => void;
  reject: (error: DcpError) => void;
}

/** The one message (single or batch) sent and not acked yet. */
export interface OnDeck {
  ackToken: string;
  sealed: string;
  entries: OutEntry[];
  link: MessageLink | null;
  rttTimer?: ReturnType<typeof setTimeout>;
}

/** An ErrorPayload from the wire → DcpError carrying the code, message and origin. */
export function errorFromPayload(payload: unknown): DcpError {
  const p = (payload && typeof payload === 'object' ? payload : {}) as Partial<ErrorPayload>;
  const { name: _n, message, code, stack: _s, ...rest } = p;
  const err = new DcpError(
    typeof code === 'string' ? code : DcpErrorCode.EINTERNAL,
    typeof message === 'string' ? message : 'request failed',
    rest,
  );
  return err;
}

export function asDcpError(error: unknown): DcpError {
  if (error instanceof DcpError) return error;
  return new DcpError(DcpErrorCode.EINVAL, error instanceof Error ? error.message : String(error));
}

/** Replace a `jsonData` string with parsed `data`, as DCP receivers do, without mutating the input. */
export function decodeJsonData(payload: unknown): unknown {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  const p = payload as Record<string, unknown>;
  if (typeof p.jsonData !== 'string' || !p.jsonData) return payload;
  const { jsonData, ...rest } = p;
  try {
    return { ...rest, data: JSON.parse(jsonData as string) };
  } catch {
    throw new DcpError(DcpErrorCode.EINVAL, 'malformed message payload.jsonData');
  }
}

/**
 * A received envelope, parsed and its signature verified: the first one fixes the peer's address
 * (`peerAddress` undefined), every later one must come from it. Throws a DcpError.
 */
export function openEnvelope(
  sealed: string,
  envelope: Envelope | undefined,
  crypto: CryptoPort,
  peerAddress: string | undefined,
): Envelope {
  const env = envelope ?? parseEnvelope(sealed);
  if (!peerAddress) {
    if (!isAddress(crypto, env.owner)) throw new DcpError(DcpErrorCode.EBADSIG, 'invalid owner address');
    verifyEnvelope(env, crypto);
  } else {
    if (!sameAddress(env.owner, peerAddress))
      throw new DcpError(DcpErrorCode.EBADSIG, `owner changed from ${peerAddress} to ${env.owner}`);
    verifyEnvelope(env, crypto);
  }
  return env;
}

function settled(): {
  promise: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: DcpError) => void;
} {
  let resolve!: (v: unknown) => void;
  let reject!: (e: DcpError) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A request to queue; its promise settles with the response (rejections are handled by callers). */
export function requestEntry(
  id: string,
  operation: string,
  data: unknown,
  validity: Validity,
  authorize?: Identity[],
): OutEntry & { promise: Promise<unknown> } {
  const { promise, resolve, reject } = settled();
  return {
    kind: 'request',
    id,
    payload: { operation, data, allow: [], validity },
    authorize,
    resolve,
    reject,
    promise,
  };
}

/** A notification to queue; its promise settles with the peer's ack. */
export function notificationEntry(
  id: string,
  data: unknown,
  validity: Validity,
  authorize?: Identity[],
): OutEntry & { promise: Promise<unknown> } {
  const { promise, resolve, reject } = settled();
  return {
    kind: 'notification',
    id,
    payload: { data, allow: [], validity },
    authorize,
    resolve,
    reject,
    promise,
  };
}

/** A response to queue; its promise settles with the peer's ack. */
export function responseEntry(
  id: string,
  payload: unknown,
  success: boolean,
): OutEntry & { promise: Promise<unknown> } {
  const { promise, resolve, reject } = settled();
  return { kind: 'response', id, payload, success, resolve, reject, promise };
}

/**
 * An entry as it goes on the wire: requests and notifications get an `allow` entry and an `auth`
 * signature per authorizing key; inside a batch their `data` travels as a `jsonData` string.
 */
export function networkForm(
  entry: OutEntry,
  inBatch: boolean,
  time: number,
  session: { dcpsid: string | undefined; peerAddress: string | undefined; identity: Identity },
): Record<string, unknown> {
  let payload = entry.payload;
  const auth: Record<string, unknown> = {};
  if (entry.kind !== 'response') {
    const p = { ...(payload as Record<string, unknown>) };
    const allow = [...((p.allow as unknown[]) ?? [])];
    for (const ks of entry.authorize ?? [])
      allow.push({ resource: ks.address, guardian: session.peerAddress, accessor: session.identity.address });
    p.allow = allow;
    if (inBatch && p.data !== undefined) {
      const { data, ...rest } = p;
      payload = { ...rest, jsonData: JSON.stringify(data) };
    } else payload = p;
    if (entry.authorize?.length) {
      const json = JSON.stringify(payload);
      for (const ks of entry.authorize) auth[ks.address] = ks.sign(json);
    }
  }
  return {
    id: entry.id,
    type: entry.kind,
    success: entry.kind === 'response' ? entry.success : undefined,
    payload,
    auth,
    dcpsid: session.dcpsid,
    time,
  };
}
