import { DcpError, DcpErrorCode, getDefaultCrypto, recoverPersonal } from '@dcp-emu/protocol';
import { type AccountId, parseAccountId } from '../ledger/account-id';
import { formatDcc, parseDcc } from '../ledger/amount';
import { LedgerErrors } from '../ledger/errors';
import { planTransfer } from '../ledger/operations';
import type { Clock, IdGenerator } from '../ledger/ports';
import type { BridgeStore, StoredChainTransaction } from './bridge-store';
import {
  BRIDGE_ACCOUNT,
  BRIDGE_MESSAGE_TYPES,
  type BridgeKind,
  bridgeFingerprint,
  bridgeIdempotencyKey,
  bridgeMemo,
  chainTransactionHash,
} from './chain';

/** What every bridge use case is built from. */
export interface BridgeDeps {
  readonly store: BridgeStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/**
 * A signed bridge request, with the values exactly as the client sent them (the signature covers
 * their JSON text, so a number stays a number and an address keeps its case).
 */
export interface SignedBridgeRequest {
  readonly address: string;
  /** decimal DCC: a string such as `'12.5'` or a JSON number */
  readonly amount: string | number;
  /** unique per movement of this address: 1–128 characters of `[A-Za-z0-9._:-]` or an integer ≥ 0 */
  readonly nonce: string | number;
  /** EIP-191 personal signature by `address`: `0x` + 65 bytes hex (r‖s‖v), as ethers' `signMessage` */
  readonly signature: string;
}

/** The outcome of a movement (or of its replay). */
export interface BridgeReceipt {
  readonly transaction: StoredChainTransaction;
  /** spendable bank balance of the address right after the movement */
  readonly bankBalance: bigint;
  /** chain balance of the address right after the movement */
  readonly chainBalance: bigint;
  /** true when this was a repeat of an earlier request: nothing moved this time */
  readonly replayed: boolean;
}

const NONCE = /^[A-Za-z0-9._:-]{1,128}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;

/**
 * The canonical text `address` personal-signs (EIP-191) to authorize a bridge movement:
 * `JSON.stringify({type, address, amount, nonce})` with exactly these keys in this order,
 * `type` = `dcp-emu/bank/withdraw@1` or `dcp-emu/bank/deposit@1`, the other values as sent.
 */
export function bridgeMessage(
  kind: BridgeKind,
  request: Pick<SignedBridgeRequest, 'address' | 'amount' | 'nonce'>,
): string {
  return JSON.stringify({
    type: BRIDGE_MESSAGE_TYPES[kind],
    address: request.address,
    amount: request.amount,
    nonce: request.nonce,
  });
}

function invalid(field: string, why: string): DcpError {
  return new DcpError(DcpErrorCode.EINVAL, `invalid ${field}: ${why}`, { field });
}

/** The nonce as the bridge keys it (`5` and `'5'` are one nonce). EINVAL if malformed. */
export function parseNonce(nonce: unknown): string {
  if (typeof nonce === 'number') {
    if (!Number.isSafeInteger(nonce) || nonce < 0)
      throw invalid('nonce', 'a number nonce must be an integer ≥ 0');
    return String(nonce);
  }
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) {
    throw invalid('nonce', 'expected 1–128 characters of [A-Za-z0-9._:-] or an integer ≥ 0');
  }
  return nonce;
}

/** `0x` r‖s‖v hex → the `{r, s, v}` form `recoverPersonal` reads. */
function wireForm(signature: string): { r: string; s: string; v: number } {
  const hex = signature.slice(2);
  return {
    r: `0x${hex.slice(0, 64)}`,
    s: `0x${hex.slice(64, 128)}`,
    v: Number.parseInt(hex.slice(128, 130), 16),
  };
}

/**
 * Checks a signed request without touching any ledger: EINVAL for a malformed address, amount, nonce
 * or signature; EPERM when the signature is not by `address` over exactly these values and this kind.
 */
export function authorize(
  kind: BridgeKind,
  request: SignedBridgeRequest,
): { address: AccountId; amount: bigint; nonce: string } {
  const address = parseAccountId(request.address);
  const amount = parseDcc(request.amount);
  const nonce = parseNonce(request.nonce);
  if (typeof request.signature !== 'string' || !SIGNATURE.test(request.signature)) {
    throw invalid('signature', 'expected 0x + 65 bytes hex (r‖s‖v), as ethers signMessage returns');
  }
  const signer = recoverPersonal(
    getDefaultCrypto(),
    bridgeMessage(kind, request),
    wireForm(request.signature),
  );
  if (signer === null || signer.toLowerCase() !== address) {
    throw new DcpError(
      DcpErrorCode.EPERM,
      `the ${kind} is not signed by ${address} (the signature must cover ${BRIDGE_MESSAGE_TYPES[kind]} with exactly the values sent)`,
      { address },
    );
  }
  return { address, amount, nonce };
}

/**
 * Moves `amount` between the address's bank account and its chain balance, in one database
 * transaction: a balanced journal entry between the address and the bank's bridge account (memo
 * `bridge-withdrawal <hash>` / `bridge-deposit <hash>`), the chain balance, and a new block. The nonce
 * is the idempotency key: the same request again replays the first receipt, the nonce reused for
 * anything else is EDUP. Refusals (ENOACCOUNT, ENOFUNDS, EDUP) change nothing on either side.
 */
export async function moveOverBridge(
  deps: BridgeDeps,
  kind: BridgeKind,
  address: AccountId,
  amount: bigint,
  nonce: string,
): Promise<BridgeReceipt> {
  const fingerprint = bridgeFingerprint(kind, address, amount);
  return deps.store.transaction(async (tx) => {
    const height = await tx.lockHead();
    const prior = await tx.findByNonce(address, nonce);
    if (prior) {
      if (prior.fingerprint !== fingerprint) {
        throw new DcpError(
          DcpErrorCode.EDUP,
          `nonce ${JSON.stringify(nonce)} of ${address} was already used for a ${prior.kind} of ${formatDcc(prior.amount)} DCC`,
          { address, nonce },
        );
      }
      return {
        transaction: prior,
        bankBalance: prior.bankBalance,
        chainBalance: prior.chainBalance,
        replayed: true,
      };
    }
    const at = new Date(deps.clock.now());
    const unhashed = { kind, address, amount, nonce, blockNumber: height + 1, at };
    const hash = chainTransactionHash(unhashed);
    const stamp = { txId: deps.ids.next('tx'), at, idempotencyKey: bridgeIdempotencyKey(address, nonce) };
    const refs = { memo: bridgeMemo(kind, hash) };
    let chainBalance: bigint;
    let bankTransactionId: string;
    if (kind === 'withdrawal') {
      bankTransactionId = (
        await tx.ledger.append(planTransfer(stamp, address, BRIDGE_ACCOUNT, amount, refs).tx)
      ).id;
      chainBalance = await tx.creditChain(address, amount);
    } else {
      chainBalance = await tx.debitChain(address, amount);
      bankTransactionId = (
        await tx.ledger.append(planTransfer(stamp, BRIDGE_ACCOUNT, address, amount, refs).tx)
      ).id;
    }
    const account = await tx.ledger.getAccount(address);
    if (!account) throw LedgerErrors.noAccount(address);
    const transaction: StoredChainTransaction = {
      ...unhashed,
      hash,
      bankTransactionId,
      fingerprint,
      bankBalance: account.balance,
      chainBalance,
    };
    await tx.insert(transaction);
    await tx.setHead(unhashed.blockNumber);
    return { transaction, bankBalance: account.balance, chainBalance, replayed: false };
  });
}
