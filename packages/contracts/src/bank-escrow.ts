import { z } from 'zod';
import { address } from './common';

/**
 * The scheduler → bank escrow channel: the operations of the bank's `bankEscrow` DCP service (at
 * `<bank>/escrow/`), each request signed by the scheduler's identity. The bank registers each
 * operation under `ESCROW_OPERATIONS.<op>.name` and parses its data with `.request`; the scheduler's
 * bank port sends that name and is typed by `.request` (input) and `.response`. Amounts are exact
 * decimal DCC strings; every call is idempotent by its key (a release, naturally).
 */
export const ESCROW_SERVICE = 'bankEscrow';
export const ESCROW_PATH = '/escrow/';

/** The most captures one `captureBatch` call may carry. */
export const MAX_CAPTURE_BATCH = 5000;

const amount = z.string().min(1).max(80);
const key = z.string().min(1).max(200);
const holdId = z.string().min(1).max(100);

/** The submit request as the client sent it, forwarded so the bank checks the account's own authorization. */
export const submitAuthorization = z.strictObject({
  /** the submit request's payload exactly as the client sent it (with its `allow` list) */
  payload: z.record(z.string(), z.unknown()),
  /** its `auth` map: resource address → signature */
  auth: z.record(z.string(), z.unknown()),
  /** the client identity that sent it (the accessor of the allow entry) */
  accessor: address,
});

export const holdRequest = z.strictObject({
  job: z.string().min(1).max(200),
  paymentAccount: address,
  amount,
  key,
  authorization: submitAuthorization,
});

export const increaseRequest = z.strictObject({ hold: holdId, amount, key });

/** One slice payment: `amount` to `to` (+ `commission`), captured from `hold`, at most once per `key`. */
export const captureRequest = z.strictObject({
  hold: holdId,
  to: address,
  amount,
  commission: z.strictObject({ to: address, amount }).optional(),
  slice: z.number().int().min(1).optional(),
  worker: z.string().max(200).optional(),
  /** `job:<id>:slice:<n>` */
  key,
});

/**
 * Many captures in one request. The bank checks each item on its own with `captureRequest` (a
 * malformed one is an EINVAL outcome of its own, the others still settle): the envelope only bounds
 * the list.
 */
export const captureBatchRequest = z.strictObject({
  captures: z.array(z.unknown()).min(1).max(MAX_CAPTURE_BATCH),
});

export const releaseRequest = z.strictObject({ hold: holdId });

/** A hold as every escrow answer shows it. */
export const escrowHold = z.object({
  hold: z.string(),
  account: z.string(),
  status: z.enum(['open', 'released']),
  held: z.string(),
  captured: z.string(),
  remaining: z.string(),
});

export const holdResponse = escrowHold.extend({ replayed: z.boolean() });
export const captureResponse = holdResponse.extend({ transaction: z.string() });
export const releaseResponse = escrowHold.extend({
  released: z.string(),
  transaction: z.string().nullable(),
});

/**
 * What became of one capture of a batch (same order as the request): paid now, paid before under
 * this key (the same transaction), or refused with a DcpErrorCode (ENOFUNDS: the hold is short;
 * EJOBSTATE: the hold was released; ENOENT: no such hold; EINVAL, EDUP: a bad request).
 */
export const captureOutcome = z.discriminatedUnion('status', [
  z.object({ key: z.string().nullable(), status: z.literal('settled'), transaction: z.string() }),
  z.object({ key: z.string().nullable(), status: z.literal('replayed'), transaction: z.string() }),
  z.object({
    key: z.string().nullable(),
    status: z.literal('failed'),
    code: z.string(),
    message: z.string(),
  }),
]);

export const captureBatchResponse = z.object({
  results: z.array(captureOutcome),
  /** the state after the batch of every hold it named that exists */
  holds: z.array(escrowHold),
});

/** Every escrow operation: its versioned name, the data it takes and what it answers. */
export const ESCROW_OPERATIONS = {
  hold: { name: 'hold@1', request: holdRequest, response: holdResponse },
  increase: { name: 'increase@1', request: increaseRequest, response: holdResponse },
  capture: { name: 'capture@1', request: captureRequest, response: captureResponse },
  captureBatch: { name: 'captureBatch@1', request: captureBatchRequest, response: captureBatchResponse },
  release: { name: 'release@1', request: releaseRequest, response: releaseResponse },
} as const;

export type EscrowOperation = keyof typeof ESCROW_OPERATIONS;
/** What the caller sends for an operation. */
export type EscrowRequest<K extends EscrowOperation> = z.input<(typeof ESCROW_OPERATIONS)[K]['request']>;
/** What the bank answers to it. */
export type EscrowResponse<K extends EscrowOperation> = z.output<(typeof ESCROW_OPERATIONS)[K]['response']>;

export type SubmitAuthorization = z.input<typeof submitAuthorization>;
export type CaptureRequest = z.input<typeof captureRequest>;
export type CaptureOutcome = z.output<typeof captureOutcome>;
export type EscrowHold = z.output<typeof escrowHold>;
