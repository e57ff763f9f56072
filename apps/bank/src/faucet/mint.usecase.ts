import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { ISSUANCE_ACCOUNT, parseAccountId } from '../ledger/account-id';
import { checkUnits, formatDcc } from '../ledger/amount';
import { runIdempotent } from '../ledger/idempotency';
import { checkIdempotencyKey, checkRefs, type JournalTransaction } from '../ledger/journal';
import { fingerprints, planMint } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';
import type { FaucetPolicy } from './faucet-policy';

export interface MintRequest {
  readonly to: string;
  /** base units (> 0, at most the policy's maxPerMint) */
  readonly amount: bigint;
  readonly memo?: string;
  readonly idempotencyKey?: string;
}

export interface MintResult {
  readonly transaction: JournalTransaction;
  readonly replayed: boolean;
}

/**
 * The dev faucet: creates DCC in an account as one balanced transaction against the system
 * issuance account, whose balance is therefore minus the total ever minted. EPERM when disabled.
 */
export class MintUseCase {
  constructor(
    private readonly deps: LedgerDeps,
    readonly policy: FaucetPolicy,
  ) {}

  async execute(req: MintRequest): Promise<MintResult> {
    if (!this.policy.enabled) {
      throw new DcpError(
        DcpErrorCode.EPERM,
        'the faucet is disabled on this bank (self-hosted): DCC cannot be minted',
      );
    }
    const to = parseAccountId(req.to, 'recipient');
    checkUnits(req.amount);
    if (req.amount > this.policy.maxPerMint) {
      throw new DcpError(
        DcpErrorCode.EINVAL,
        `the faucet mints at most ${formatDcc(this.policy.maxPerMint)} DCC at a time, not ${formatDcc(req.amount)}`,
      );
    }
    const refs = checkRefs({ memo: req.memo });
    const key = req.idempotencyKey === undefined ? undefined : checkIdempotencyKey(req.idempotencyKey);
    const { store, clock, ids } = this.deps;
    return runIdempotent<MintResult>(store, {
      key,
      fingerprint: fingerprints.mint(to, req.amount),
      run: async (tx) => {
        const stamp = {
          txId: ids.next('tx'),
          at: new Date(clock.now()),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        };
        const transaction = await tx.append(planMint(stamp, to, req.amount, refs.memo).tx);
        return { transaction, replayed: false };
      },
      replay: async (_tx, prior) => ({ transaction: prior, replayed: true }),
    });
  }

  /** Base units minted so far (minus the issuance account's balance). */
  async totalMinted(): Promise<bigint> {
    const issuance = await this.deps.store.getAccount(ISSUANCE_ACCOUNT);
    return -(issuance?.balance ?? 0n);
  }
}
