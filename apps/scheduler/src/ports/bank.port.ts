import type {
  CaptureOutcome,
  CaptureRequest,
  EscrowHold,
  EscrowRequest,
  EscrowResponse,
  SubmitAuthorization,
} from '@dcp-emu/contracts';

/**
 * The bank, as the scheduler's escrow needs it: the operations of the bank's `bankEscrow` DCP
 * service, typed by their contracts (@dcp-emu/contracts, bank-escrow.ts). Amounts are exact decimal
 * DCC strings. Every call is idempotent by its key (or, for a release, naturally), so the scheduler
 * retries freely after errors or restarts. Errors are DcpErrors: ENOFUNDS when the payment account
 * (hold, increase) or the hold (capture) is short.
 */
export type { CaptureOutcome, CaptureRequest, SubmitAuthorization };
export { MAX_CAPTURE_BATCH } from '@dcp-emu/contracts';

/** A hold as the scheduler reads it (every escrow answer carries at least this). */
export type HoldView = Pick<EscrowHold, 'hold' | 'held' | 'captured' | 'remaining' | 'status'>;

export interface CaptureBatchAnswer {
  results: CaptureOutcome[];
  /** the state after the batch of every hold it named that exists */
  holds: HoldView[];
}

export interface BankPort {
  hold(req: EscrowRequest<'hold'>): Promise<HoldView>;
  increase(req: EscrowRequest<'increase'>): Promise<HoldView>;
  capture(req: CaptureRequest): Promise<HoldView & Pick<EscrowResponse<'capture'>, 'transaction'>>;
  /**
   * Many captures in one request, applied by the bank as one ledger transaction; each gets its own
   * outcome (a refused one never fails the others). The call as a whole fails only when the bank
   * cannot be reached or refuses the caller (EPERM).
   */
  captureBatch(captures: CaptureRequest[]): Promise<CaptureBatchAnswer>;
  release(hold: string): Promise<HoldView & Pick<EscrowResponse<'release'>, 'released'>>;
  close(): Promise<void>;
}

/** Injection token of the bank port; none bound = the scheduler runs unmetered (no money moves). */
export const BANK = Symbol('BANK');
