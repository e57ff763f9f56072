import { ESCROW_OPERATIONS, type EscrowOperation, type EscrowResponse } from '@dcp-emu/contracts';
import { DcpInitiator, type Identity, type Logger } from '@dcp-emu/protocol/node';
import type { BankPort, CaptureRequest } from '../ports/bank.port';

/**
 * The bank port over DCP: requests to the bank's `bankEscrow` service (`<bank>/escrow/`), signed
 * with the scheduler's identity, under the operation names of the escrow contract. The initiator
 * reconnects and resumes on its own; a request that fails is retried by the escrow's settle loop
 * with the same idempotency key.
 */
export class DcpBank implements BankPort {
  readonly #initiator: DcpInitiator;

  constructor(bankUrl: string, identity: Identity, logger: Logger) {
    this.#initiator = new DcpInitiator({
      location: new URL('escrow/', bankUrl.endsWith('/') ? bankUrl : `${bankUrl}/`),
      identity,
      logger,
      connectTimeoutMs: 10_000,
    });
  }

  /** The answer is the bank's, typed by the contract (not parsed again: captureBatch is the hot path). */
  #call<K extends EscrowOperation>(operation: K, data: unknown): Promise<EscrowResponse<K>> {
    return this.#initiator.request(ESCROW_OPERATIONS[operation].name, data) as Promise<EscrowResponse<K>>;
  }

  hold(req: Parameters<BankPort['hold']>[0]) {
    return this.#call('hold', req);
  }

  increase(req: Parameters<BankPort['increase']>[0]) {
    return this.#call('increase', req);
  }

  capture(req: CaptureRequest) {
    return this.#call('capture', req);
  }

  captureBatch(captures: CaptureRequest[]) {
    return this.#call('captureBatch', { captures });
  }

  release(hold: string) {
    return this.#call('release', { hold });
  }

  async close(): Promise<void> {
    await this.#initiator.close();
  }
}
