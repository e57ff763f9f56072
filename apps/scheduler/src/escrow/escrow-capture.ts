/**
 * The capture side of escrow settlement: owed slice payments → the bank's batched capture requests,
 * and the bank's answers sorted into settled, short (by job) and to be written off.
 */
import { createHash } from 'node:crypto';
import { DcpErrorCode, type Logger, parseDcc } from '@dcp-emu/protocol/node';
import type { BankPort, CaptureBatchAnswer, CaptureRequest } from '../ports/bank.port';
import type { PaymentRecord } from './escrow-store';

/** An owed payment and its capture request. */
export interface CaptureItem {
  payment: PaymentRecord;
  request: CaptureRequest;
}

/** A payment the bank captured (or had captured before, under the same key). */
export interface SettledPayment {
  jobId: string;
  sliceNumber: number;
  transaction: string;
}

/** Payments per `captureBatch` call (and per settle step). */
export const SETTLE_BATCH = 2000;

/** Per-item refusals that no retry can fix: the payments are written off. */
const WRITE_OFF_CODES = new Set<string>([DcpErrorCode.EJOBSTATE, DcpErrorCode.ENOENT]);

/** The idempotency key of the top-up for these short slices (the same slices → the same key). */
export function topUpKey(jobId: string, slices: number[]): string {
  if (slices.length === 1) return `job:${jobId}:slice:${slices[0]}:topup`;
  const digest = createHash('sha256').update(slices.join(',')).digest('hex').slice(0, 16);
  return `job:${jobId}:slices:${slices[0]}-${slices.at(-1)}:${slices.length}:${digest}:topup`;
}

/** The bank capture of one owed payment (its idempotency key names the slice). */
export function captureRequest(p: PaymentRecord, hold: string): CaptureRequest {
  const commission = parseDcc(p.commission, { sign: 'nonNegative' });
  return {
    hold,
    to: p.payTo,
    amount: p.amount,
    ...(commission > 0n ? { commission: { to: p.commissionTo, amount: p.commission } } : {}),
    slice: p.sliceNumber,
    worker: p.worker,
    key: `job:${p.jobId}:slice:${p.sliceNumber}`,
  };
}

/** A payment and its commission, in base units. */
export function paymentTotal(p: PaymentRecord): bigint {
  return parseDcc(p.amount, { sign: 'nonNegative' }) + parseDcc(p.commission, { sign: 'nonNegative' });
}

/**
 * Sends the requests in batches and sorts the answers: settled (or replayed) payments, payments
 * refused for a short hold (by job), jobs to write off (their hold released or unknown; the caller
 * writes them off). A batch the bank did not answer leaves its jobs waiting for the next round.
 */
export async function captureInBatches(
  bank: Pick<BankPort, 'captureBatch'>,
  logger: Logger,
  requests: CaptureItem[],
  waiting: Set<string>,
): Promise<{ settled: SettledPayment[]; short: Map<string, CaptureItem[]>; writeOff: Map<string, string> }> {
  const settled: SettledPayment[] = [];
  const short = new Map<string, CaptureItem[]>();
  const writeOff = new Map<string, string>();
  for (let i = 0; i < requests.length; i += SETTLE_BATCH) {
    const part = requests.slice(i, i + SETTLE_BATCH);
    let answer: CaptureBatchAnswer;
    try {
      answer = await bank.captureBatch(part.map((r) => r.request));
    } catch (error) {
      logger.warn({ payments: part.length, err: error }, 'capture batch failed; retrying');
      for (const r of part) waiting.add(r.payment.jobId);
      continue;
    }
    const released = new Set(answer.holds.filter((h) => h.status === 'released').map((h) => h.hold));
    part.forEach((r, j) => {
      const outcome = answer.results[j];
      const { jobId, sliceNumber } = r.payment;
      if (!outcome) {
        waiting.add(jobId);
      } else if (outcome.status !== 'failed') {
        settled.push({ jobId, sliceNumber, transaction: outcome.transaction });
      } else if (outcome.code === DcpErrorCode.ENOFUNDS && !released.has(r.request.hold)) {
        short.set(jobId, [...(short.get(jobId) ?? []), r]);
      } else if (WRITE_OFF_CODES.has(outcome.code)) {
        if (!writeOff.has(jobId)) writeOff.set(jobId, `${outcome.code}: ${outcome.message}`);
      } else {
        // anything else (EINTERNAL, …) may pass: the payment stays owed
        if (!waiting.has(jobId))
          logger.warn({ job: jobId, slice: sliceNumber, code: outcome.code }, 'capture refused; retrying');
        waiting.add(jobId);
      }
    });
  }
  return { settled, short, writeOff };
}
