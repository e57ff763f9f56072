import { BANK_MESSAGE_TYPES } from '@dcp-emu/contracts';
import { DcpError, DcpErrorCode, getDefaultCrypto, recoverPersonal } from '@dcp-emu/protocol';
import type { TransferResult, TransferUseCase } from '../accounts/transfer.usecase';
import { parseDcc } from '../ledger/amount';

/** What `from` signs to authorize `POST /api/transfers`. */
export interface TransferIntent {
  readonly from: string;
  readonly to: string;
  /** decimal DCC, exactly as sent in the body */
  readonly amount: string;
  readonly nonce: string;
}

export const TRANSFER_MESSAGE_TYPE = BANK_MESSAGE_TYPES.transfer;

/**
 * The canonical text `from` personal-signs (EIP-191, as `eth_sign`/`personal_sign`/ethers'
 * `signMessage`): `JSON.stringify({type, from, to, amount, nonce})` with exactly these keys in this
 * order, `type` = `dcp-emu/bank/transfer@1`, and the other values as sent in the request body.
 */
export function transferMessage(intent: TransferIntent): string {
  return JSON.stringify({
    type: TRANSFER_MESSAGE_TYPE,
    from: intent.from,
    to: intent.to,
    amount: intent.amount,
    nonce: intent.nonce,
  });
}

/** `0x` + r‖s‖v hex (ethers) → the `{r, s, v}` form `recoverPersonal` reads; other forms unchanged. */
function wireForm(signature: unknown): unknown {
  if (typeof signature !== 'string') return signature;
  const hex = signature.slice(2);
  return {
    r: `0x${hex.slice(0, 64)}`,
    s: `0x${hex.slice(64, 128)}`,
    v: Number.parseInt(hex.slice(128, 130), 16),
  };
}

/**
 * A transfer authorized by the source account's signature over `transferMessage`. The nonce is the
 * idempotency key (`rest-transfer:<from>:<nonce>`): a replayed request replays the first result and
 * never moves money twice; the nonce reused for another transfer is EDUP. A signature by anyone but
 * `from` (or over other values) is EPERM and nothing moves.
 */
export class SignedTransferUseCase {
  constructor(private readonly transfer: TransferUseCase) {}

  async execute(intent: TransferIntent, signature: unknown): Promise<TransferResult> {
    const amount = parseDcc(intent.amount);
    const signer = recoverPersonal(getDefaultCrypto(), transferMessage(intent), wireForm(signature));
    if (signer === null || signer.toLowerCase() !== intent.from.toLowerCase()) {
      throw new DcpError(
        DcpErrorCode.EPERM,
        `the transfer is not signed by the source account ${intent.from}`,
        { from: intent.from },
      );
    }
    return this.transfer.execute({
      from: intent.from,
      to: intent.to,
      amount,
      idempotencyKey: `rest-transfer:${intent.from.toLowerCase()}:${intent.nonce}`,
    });
  }
}
