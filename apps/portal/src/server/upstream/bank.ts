import { z } from 'zod';
import type { Result } from '../result';
import type { Upstream } from './upstream';

/** Answers of the bank's REST API (apps/bank/src/api) and its chain bridge, as far as the portal reads them. */

export const transactionSchema = z.object({
  id: z.string(),
  seq: z.number(),
  reason: z.string(),
  refs: z
    .object({
      job: z.string().optional(),
      slice: z.number().optional(),
      worker: z.string().optional(),
      hold: z.string().optional(),
      memo: z.string().optional(),
    })
    .loose(),
  postings: z.array(z.object({ book: z.string(), amount: z.string() })),
  createdAt: z.string(),
});
export type TransactionView = z.output<typeof transactionSchema>;

export const holdSchema = z
  .object({
    id: z.string(),
    account: z.string(),
    status: z.string(),
    held: z.string(),
    captured: z.string(),
    released: z.string(),
    remaining: z.string(),
  })
  .loose();

export const accountSchema = z.object({
  address: z.string(),
  balance: z.string(),
  held: z.string(),
  openHolds: z.array(holdSchema).default([]),
});

export const historySchema = z.object({
  address: z.string(),
  entries: z.array(z.object({ delta: z.string(), transaction: transactionSchema })),
  nextBefore: z.number().optional(),
});
export type HistoryView = z.output<typeof historySchema>;

export const trailSchema = z.object({
  job: z.string(),
  escrowed: z.string(),
  paid: z.string(),
  commission: z.string(),
  refunded: z.string(),
  holds: z.array(holdSchema),
  steps: z.array(z.object({ kind: z.string(), transaction: transactionSchema })),
});
export type TrailView = z.output<typeof trailSchema>;

export const bridgeAccountSchema = z.object({
  address: z.string(),
  chainBalance: z.string(),
  bankBalance: z.string(),
});
export const bridgeTransactionSchema = z
  .object({
    hash: z.string(),
    kind: z.string(),
    address: z.string(),
    amount: z.string(),
    blockNumber: z.number().optional(),
    at: z.string().optional(),
  })
  .loose();

/** Body of a signed bank call: `signature` is the address's personal_sign over the canonical JSON. */
export interface SignedBridgeRequest {
  address: string;
  amount: string;
  nonce: string;
  signature: string;
}
export interface SignedTransferRequest {
  from: string;
  to: string;
  amount: string;
  nonce: string;
  signature: string;
}

/** Typed calls on the bank's REST API. */
export function bankApi(up: Upstream) {
  const enc = encodeURIComponent;
  return {
    account: (address: string) => up.call('GET', `api/accounts/${enc(address)}`, accountSchema),
    history: (address: string, limit = 200) =>
      up.call('GET', `api/accounts/${enc(address)}/history?limit=${limit}`, historySchema),
    faucetStatus: () =>
      up.call(
        'GET',
        'api/faucet',
        z.object({ enabled: z.boolean(), maxPerMint: z.string(), totalMinted: z.string() }),
      ),
    faucet: (address: string, amount: string) =>
      up.call('POST', 'api/faucet', z.object({ transaction: transactionSchema }), {
        address,
        amount,
        memo: 'portal faucet',
      }),
    trail: (job: string) => up.call('GET', `api/jobs/${enc(job)}/trail`, trailSchema),
    transfer: (body: SignedTransferRequest) =>
      up.call(
        'POST',
        'api/transfers',
        z.object({ transaction: transactionSchema, replayed: z.boolean().optional() }),
        body,
      ),
    bridgeAccount: (address: string) =>
      up.call('GET', `api/bridge/accounts/${enc(address)}`, bridgeAccountSchema),
    bridgeTransactions: (address: string) =>
      up.call(
        'GET',
        `api/bridge/accounts/${enc(address)}/transactions`,
        z.object({ transactions: z.array(bridgeTransactionSchema) }),
      ),
    deposit: (body: SignedBridgeRequest) =>
      up.call('POST', 'api/bridge/deposits', z.object({ hash: z.string() }).loose(), body),
    withdraw: (body: SignedBridgeRequest) =>
      up.call('POST', 'api/bridge/withdrawals', z.object({ hash: z.string() }).loose(), body),
  } satisfies Record<string, (...args: never[]) => Promise<Result<unknown>>>;
}
export type BankApi = ReturnType<typeof bankApi>;
