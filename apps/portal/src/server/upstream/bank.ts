import {
  accountView,
  bridgeAccountView,
  bridgeReceiptView,
  type bridgeRequest,
  chainHistoryView,
  faucetStatus,
  historyView as historyViewSchema,
  jobTrail as jobTrailSchema,
  mintResult,
  type transactionView,
  type transferRequest,
  transferResult,
} from '@dcp-emu/contracts';
import type { z } from 'zod';
import type { Result } from '../result';
import type { Upstream } from './upstream';

/** Answers of the bank's REST API and its chain bridge, checked with its contracts (@dcp-emu/contracts). */
export type TransactionView = z.output<typeof transactionView>;
export type HistoryView = z.output<typeof historyViewSchema>;
export type TrailView = z.output<typeof jobTrailSchema>;

/** Body of a signed bank call: `signature` is the address's personal_sign over the canonical JSON. */
export type SignedBridgeRequest = z.input<typeof bridgeRequest> & { amount: string; nonce: string };
export type SignedTransferRequest = z.input<typeof transferRequest> & { signature: string };

/** Typed calls on the bank's REST API. */
export function bankApi(up: Upstream) {
  const enc = encodeURIComponent;
  return {
    account: (address: string) => up.call('GET', `api/accounts/${enc(address)}`, accountView),
    history: (address: string, limit = 200) =>
      up.call('GET', `api/accounts/${enc(address)}/history?limit=${limit}`, historyViewSchema),
    faucetStatus: () => up.call('GET', 'api/faucet', faucetStatus),
    faucet: (address: string, amount: string) =>
      up.call('POST', 'api/faucet', mintResult, { address, amount, memo: 'portal faucet' }),
    trail: (job: string) => up.call('GET', `api/jobs/${enc(job)}/trail`, jobTrailSchema),
    transfer: (body: SignedTransferRequest) => up.call('POST', 'api/transfers', transferResult, body),
    bridgeAccount: (address: string) =>
      up.call('GET', `api/bridge/accounts/${enc(address)}`, bridgeAccountView),
    bridgeTransactions: (address: string) =>
      up.call('GET', `api/bridge/accounts/${enc(address)}/transactions`, chainHistoryView),
    deposit: (body: SignedBridgeRequest) => up.call('POST', 'api/bridge/deposits', bridgeReceiptView, body),
    withdraw: (body: SignedBridgeRequest) =>
      up.call('POST', 'api/bridge/withdrawals', bridgeReceiptView, body),
  } satisfies Record<string, (...args: never[]) => Promise<Result<unknown>>>;
}
export type BankApi = ReturnType<typeof bankApi>;
