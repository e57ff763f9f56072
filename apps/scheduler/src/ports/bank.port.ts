/**
 * Money for jobs, behind a port. The bank developer provides the implementation that talks to
 * apps/bank (escrow hold at submit, capture per accepted result, release of the rest when the job
 * ends). Until it is wired in, the scheduler runs with `UnmeteredBank`, which moves NO money: jobs
 * are accepted without a hold and workers are told they earned 0. Metering (CPU/GPU ms, bytes in/out
 * per slice) is recorded in the scheduler's tables either way, for the bank to read.
 */
export interface HoldRequest {
  job: string;
  /** the payment account the client authorized (allow/auth verified by the DCP layer) */
  paymentAccount: string;
  /** DCC the job may spend per slice */
  perSlice: number;
  /** slices known at submit (0 for array jobs still uploading) */
  slices: number;
}

export interface CaptureRequest {
  job: string;
  slice: number;
  /** the worker's earnings address */
  paymentAddress: string;
  /** DCC to pay for this slice */
  amount: number;
  metering: { cpuMs: number; gpuMs: number; bytesIn: number; bytesOut: number };
}

export interface BankPort {
  /** Escrow funds for a job; returns the escrow reference given to the client. Throws DcpError ENOFUNDS. */
  hold(request: HoldRequest): Promise<{ escrow: string }>;
  /** Pay a worker for one accepted slice; returns the amount actually paid (DCC, decimal string). */
  capture(request: CaptureRequest): Promise<{ paid: string }>;
  /** Give back what the job did not spend (finished or cancelled). */
  release(job: string): Promise<void>;
}

export const BANK = Symbol('BANK');

/** No bank wired in: nothing is held, captured or released (see the note above). */
export class UnmeteredBank implements BankPort {
  async hold(request: HoldRequest): Promise<{ escrow: string }> {
    return { escrow: request.paymentAccount };
  }
  async capture(): Promise<{ paid: string }> {
    return { paid: '0' };
  }
  async release(): Promise<void> {}
}
