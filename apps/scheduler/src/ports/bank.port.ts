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

export interface BankPort {
  hold(req: {
    job: string;
    paymentAccount: string;
    amount: string;
    key: string;
    authorization: SubmitAuthorization;
  }): Promise<HoldView>;
  increase(req: { hold: string; amount: string; key: string }): Promise<HoldView>;
  capture(req: {
    hold: string;
    to: string;
    amount: string;
    commission?: { to: string; amount: string };
    slice: number;
    worker: string;
    key: string;
  }): Promise<HoldView & { transaction: string }>;
  release(hold: string): Promise<HoldView & { released: string }>;
  close(): Promise<void>;
}

/** Injection token of the bank port; none bound = the scheduler runs unmetered (no money moves). */
export const BANK = Symbol('BANK');
