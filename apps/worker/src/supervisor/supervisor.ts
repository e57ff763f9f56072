import { lookup } from 'node:dns/promises';
import { SupervisorCore, type SupervisorCoreOptions } from '@dcp-emu/worker-core';
import { EvaluatorSandbox } from './evaluator-sandbox';

export interface SupervisorOptions extends Omit<SupervisorCoreOptions, 'sandboxes'> {
  /** the evaluator's TCP address: one connection per sandbox (`dcp-emu-evaluator`, DCP's evaluator-node) */
  evaluator: { host: string; port: number };
}

/**
 * Our Node DCP worker's supervisor: `SupervisorCore` with sandboxes in an evaluator reached over TCP
 * (dcp-worker-protocol.md §5.1). The portal's browser worker uses the core with Web Worker sandboxes.
 */
export class Supervisor extends SupervisorCore {
  readonly evaluator: { host: string; port: number };

  constructor(options: SupervisorOptions) {
    const { evaluator, ...core } = options;
    super({
      ...core,
      resolveHost:
        core.resolveHost ?? ((h) => lookup(h, { all: true }).then((all) => all.map((a) => a.address))),
      sandboxes: (host, timeouts) => EvaluatorSandbox.open(evaluator.host, evaluator.port, host, timeouts),
    });
    this.evaluator = evaluator;
  }
}
