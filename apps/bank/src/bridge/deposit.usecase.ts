import {
  type BridgeDeps,
  type BridgeReceipt,
  authorize,
  moveOverBridge,
  type SignedBridgeRequest,
} from './bridge-movement';

/**
 * Chain → bank: takes DCC from the address's balance on the emulated chain (ENOACCOUNT if it never
 * had one, ENOFUNDS if short) and pays it from the bank's bridge account into the address's bank
 * account (opened if new), as one new block. Authorized by the address's signature over
 * `dcp-emu/bank/deposit@1`.
 */
export class DepositUseCase {
  constructor(private readonly deps: BridgeDeps) {}

  async execute(request: SignedBridgeRequest): Promise<BridgeReceipt> {
    const { address, amount, nonce } = authorize('deposit', request);
    return moveOverBridge(this.deps, 'deposit', address, amount, nonce);
  }
}
