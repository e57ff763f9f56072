/**
 * The bank, as the scheduler's escrow needs it: the operations of the bank's `bankEscrow` DCP
 * service. Amounts are exact decimal DCC strings. Every call is idempotent by its key (or, for a
 * release, naturally), so the scheduler retries freely after errors or restarts. Errors are
 * DcpErrors: ENOFUNDS when the payment account (hold, increase) or the hold (capture) is short.
 */
export interface SubmitAuthorization {
  /** the submit request's payload exactly as the client sent it (with its `allow` list) */
  payload: Record<string, unknown>;
  /** its `auth` map: resource address → signature */
  auth: Record<string, unknown>;
  /** the client identity that sent it (the accessor of the allow entry) */
  accessor: string;
}

export interface HoldView {
  hold: string;
  held: string;
  captured: string;
  remaining: string;
  status: string;
}

/** One slice payment of a `captureBatch` (as `capture`). */
export interface CaptureRequest {
  hold: string;
  to: string;
  amount: string;
  commission?: { to: string; amount: string };
  slice: number;
  worker: string;
  /** `job:<id>:slice:<n>` */
  key: string;
}

/**
 * What became of one capture of a batch (same order as the request): paid now, paid before under
 * this key (the same transaction), or refused with a DcpErrorCode (ENOFUNDS: the hold is short;
 * EJOBSTATE: the hold was released; ENOENT: no such hold; EINVAL, EDUP: a bad request).
 */
export type CaptureOutcome =
  | { key: string | null; status: 'settled' | 'replayed'; transaction: string }
  | { key: string | null; status: 'failed'; code: string; message: string };

export interface CaptureBatchAnswer {
  results: CaptureOutcome[];
  /** the state after the batch of every hold it named that exists */
  holds: HoldView[];
}

/** The most captures one `captureBatch` call may carry (the bank's limit). */
export const MAX_CAPTURE_BATCH = 5000;

export interface BankPort {
  hold(req: {
    job: string;
    paymentAccount: string;
    amount: string;
    key: string;
    authorization: SubmitAuthorization;
  }): Promise<HoldView>;
  increase(req: { hold: string; amount: string; key: string }): Promise<HoldView>;
  capture(req: CaptureRequest): Promise<HoldView & { transaction: string }>;
  /**
   * Many captures in one request, applied by the bank as one ledger transaction; each gets its own
   * outcome (a refused one never fails the others). The call as a whole fails only when the bank
   * cannot be reached or refuses the caller (EPERM).
   */
  captureBatch(captures: CaptureRequest[]): Promise<CaptureBatchAnswer>;
  release(hold: string): Promise<HoldView & { released: string }>;
  close(): Promise<void>;
}

/** Injection token of the bank port; none bound = the scheduler runs unmetered (no money moves). */
export const BANK = Symbol('BANK');
