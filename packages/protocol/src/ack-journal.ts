/**
 * The token of the last ack a target sent on each session, kept where a restarted target finds it.
 *
 * Why: dcp-client retransmits its unacked ("on deck") message only when it receives a duplicate of the
 * last ack it got. A target that restarted without knowing that ack cannot make the client retransmit,
 * so the message stays unacked and dcp-client rejects it when told to close — an unhandled rejection
 * that kills dcp-client 5.6.1 when the message is an event response. Recorded BEFORE the ack is sent,
 * the token is always either the one of the client's last received ack or the one of its on-deck
 * message; an ack carrying it makes the client settle or retransmit what it has on deck.
 */
export interface AckJournal {
  /** called before the ack is written to the link; must be synchronous */
  record(dcpsid: string, token: string): void;
  last(dcpsid: string): string | undefined;
  forget(dcpsid: string): void;
}

/** An in-memory journal (tests; targets restarted within one process). */
export function memoryAckJournal(): AckJournal & { readonly size: number } {
  const map = new Map<string, string>();
  return {
    record: (dcpsid, token) => void map.set(dcpsid, token),
    last: (dcpsid) => map.get(dcpsid),
    forget: (dcpsid) => void map.delete(dcpsid),
    get size() {
      return map.size;
    },
  };
}
