import { DcpInitiator, type Identity, type Logger } from '@dcp-emu/protocol/node';
import type { BankPort, CaptureBatchAnswer, CaptureRequest, HoldView } from '../ports/bank.port';

/**
 * The bank port over DCP: requests to the bank's `bankEscrow` service (`<bank>/escrow/`), signed
 * with the scheduler's identity. The initiator reconnects and resumes on its own; a request that
 * fails is retried by the escrow's settle loop with the same idempotency key.
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

  #call<T>(operation: string, data: unknown): Promise<T> {
    return this.#initiator.request(operation, data) as Promise<T>;
  }

  hold(req: Parameters<BankPort['hold']>[0]): Promise<HoldView> {
    return this.#call('hold@1', req);
  }

  increase(req: Parameters<BankPort['increase']>[0]): Promise<HoldView> {
    return this.#call('increase@1', req);
  }

  capture(req: Parameters<BankPort['capture']>[0]): Promise<HoldView & { transaction: string }> {
    return this.#call('capture@1', req);
  }

  captureBatch(captures: CaptureRequest[]): Promise<CaptureBatchAnswer> {
    return this.#call('captureBatch@1', { captures });
  }

  release(hold: string): Promise<HoldView & { released: string }> {
    return this.#call('release@1', { hold });
  }

  async close(): Promise<void> {
    await this.#initiator.close();
  }
}
