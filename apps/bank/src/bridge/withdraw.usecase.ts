import {
  type BridgeDeps,
  type BridgeReceipt,
  authorize,
  moveOverBridge,
  type SignedBridgeRequest,
} from './bridge-movement';

/**
 * Bank → chain: takes DCC from the address's bank account (ENOACCOUNT if it has none, ENOFUNDS if
 * short) into the bank's bridge account and credits the same amount to the address on the emulated
 * chain, as one new block. Authorized by the address's signature over `dcp-emu/bank/withdraw@1`.
 */
export class WithdrawUseCase {
  constructor(private readonly deps: BridgeDeps) {}

  async execute(request: SignedBridgeRequest): Promise<BridgeReceipt> {
    const { address, amount, nonce } = authorize('withdrawal', request);
    return moveOverBridge(this.deps, 'withdrawal', address, amount, nonce);
  }
}
