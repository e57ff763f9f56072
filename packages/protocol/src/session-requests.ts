/** A session's request registry: our requests waiting for their response, by message id. */
import { DcpError, DcpErrorCode } from './errors';
import type { MessageBody } from './messages';
import { decodeJsonData, errorFromPayload, type OutEntry } from './session-wire';

export class PendingRequests {
  readonly #entries = new Map<string, OutEntry>();

  add(entry: OutEntry): void {
    this.#entries.set(entry.id, entry);
  }

  /** The connect request that `id` answers, taken out of the registry; undefined if it is none. */
  takeConnect(id: string): OutEntry | undefined {
    const entry = this.#entries.get(id);
    if (!entry?.isConnect) return undefined;
    this.#entries.delete(id);
    return entry;
  }

  /** A response settles its request (jsonData decoded; a failure → DcpError). Throws EINVAL if unknown. */
  settle(msg: MessageBody): void {
    const entry = this.#entries.get(msg.id);
    if (!entry || entry.isConnect)
      throw new DcpError(DcpErrorCode.EINVAL, `received response for unknown message ${msg.id}`);
    this.#entries.delete(msg.id);
    const payload = decodeJsonData(msg.payload);
    if (msg.success === true) entry.resolve(payload);
    else if (msg.success === false) entry.reject(errorFromPayload(payload));
    else throw new DcpError(DcpErrorCode.EINVAL, 'malformed response');
  }

  /** Fail every request (but a pending connect when `keepConnect`). */
  rejectAll(error: DcpError, keepConnect = false): void {
    for (const [key, entry] of this.#entries) {
      if (keepConnect && entry.isConnect) continue;
      this.#entries.delete(key);
      entry.reject(error);
    }
  }
}
