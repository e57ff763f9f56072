import { BANK_MESSAGE_TYPES } from '@dcp-emu/contracts';
import { getDefaultCrypto } from '@dcp-emu/protocol';
import type { AccountId } from '../ledger/account-id';

/**
 * The emulated chain side of the bridge. EMULATED: nothing here talks to Ethereum. It is a second,
 * tiny ledger (chain balances keyed by the same addresses as bank accounts, and one transaction per
 * block) that stands in for the token contract so the portal's "to and from the blockchain" works
 * offline, with Ethereum-looking transaction hashes and block numbers.
 */

/** The bank account holding every DCC that sits on the chain: Σ chain balances = its balance. */
export const BRIDGE_ACCOUNT = 'system:bridge' as AccountId;

/** 'withdrawal' moves DCC from the bank to the chain, 'deposit' from the chain to the bank. */
export type BridgeKind = 'deposit' | 'withdrawal';

/** The `type` the signed authorization message carries for each kind. */
export const BRIDGE_MESSAGE_TYPES = {
  withdrawal: BANK_MESSAGE_TYPES.withdrawal,
  deposit: BANK_MESSAGE_TYPES.deposit,
} as const satisfies Record<BridgeKind, string>;

/** Names the emulated chain inside every hashed transaction (no real chain id is claimed). */
export const EMULATED_CHAIN = 'dcp-emu/emulated-chain';

/** A transaction of the emulated chain; every one sits alone in its block. */
export interface ChainTransaction {
  /** keccak-256 of `canonicalChainTransaction`, `0x` + 64 hex digits */
  readonly hash: string;
  readonly kind: BridgeKind;
  readonly address: AccountId;
  /** base units, > 0 */
  readonly amount: bigint;
  /** the client's nonce (idempotency key per address) */
  readonly nonce: string;
  readonly blockNumber: number;
  readonly at: Date;
  /** the bank journal transaction that moved the DCC */
  readonly bankTransactionId: string;
}

export type UnhashedChainTransaction = Omit<ChainTransaction, 'hash' | 'bankTransactionId'>;

/**
 * The text a chain transaction's hash is computed over: a JSON object with fixed keys in a fixed
 * order, amounts as base-unit integers in a string, the time as ISO-8601.
 */
export function canonicalChainTransaction(tx: UnhashedChainTransaction): string {
  return JSON.stringify({
    chain: EMULATED_CHAIN,
    blockNumber: tx.blockNumber,
    kind: tx.kind,
    address: tx.address,
    amount: tx.amount.toString(),
    nonce: tx.nonce,
    at: tx.at.toISOString(),
  });
}

/** keccak-256 of the canonical transaction, `0x`-prefixed lower-case hex. */
export function chainTransactionHash(tx: UnhashedChainTransaction): string {
  const digest = getDefaultCrypto().keccak256(Buffer.from(canonicalChainTransaction(tx), 'utf8'));
  return `0x${Buffer.from(digest).toString('hex')}`;
}

/** Canonical text of a bridge request: a nonce reused with another fingerprint is EDUP. */
export function bridgeFingerprint(kind: BridgeKind, address: AccountId, amount: bigint): string {
  return `bridge-${kind}|${address}|${amount}`;
}

/** The bank ledger's idempotency key of a bridge movement (one per address and nonce). */
export function bridgeIdempotencyKey(address: AccountId, nonce: string): string {
  return `bridge:${address}:${nonce}`;
}

/** The memo of the bank journal entry: why the DCC moved and which chain transaction it is. */
export function bridgeMemo(kind: BridgeKind, hash: string): string {
  return `bridge-${kind} ${hash}`;
}
