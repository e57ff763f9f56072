import type { Database } from '@dcp-emu/db';
import type { DcpTarget } from '@dcp-emu/protocol/node';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The bank's Prometheus metrics (prom-client): captures settled and open holds read from the ledger
 * when scraped (the ledger is the truth, so the totals survive restarts), DCP requests counted as
 * they arrive on the teller's target, by service (bankTeller, bankEscrow).
 */
export class BankMetrics {
  readonly registry = new Registry();

  constructor(db: Database, target: DcpTarget) {
    const r = [this.registry];
    new Counter({
      name: 'dcp_bank_captures_settled_total',
      help: 'Captures (slice payments out of a hold) in the ledger',
      registers: r,
      async collect() {
        const n = await db.prisma.bankTransaction.count({ where: { reason: 'capture' } });
        this.reset();
        this.inc(n);
      },
    });
    new Gauge({
      name: 'dcp_bank_holds_open',
      help: 'Escrow holds not released yet',
      registers: r,
      async collect() {
        this.set(await db.prisma.bankHold.count({ where: { status: 'open' } }));
      },
    });
    const requests = new Counter({
      name: 'dcp_bank_dcp_requests_total',
      help: 'DCP requests received, by service',
      labelNames: ['service'],
      registers: r,
    });
    target.on('session', (session, info) => {
      session.on('request', () => requests.inc({ service: info.service }));
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
