import {
  authorizedResources,
  DcpError,
  DcpErrorCode,
  formatDcc,
  getDefaultCrypto,
  OperationRegistry,
  parseDcc,
  sameAddress,
} from '@dcp-emu/protocol';
import { captureRequest, ESCROW_OPERATIONS, escrowHold, type EscrowOperation } from '@dcp-emu/contracts';
import type { z } from 'zod';
import type { BankLedger } from '../accounts/bank-ledger';
import { parseAccountId } from '../ledger/account-id';
import type { Hold } from '../ledger/hold';
import type { BatchCapture, BatchCaptureOutcome } from './capture-batch.usecase';

/**
 * The scheduler's channel to the bank: a DCP service (`bankEscrow`, at `<bank>/escrow/`) whose
 * every request is signed by the scheduler's identity and protected against replay by the DCP
 * layer. Only trusted schedulers may call it; a hold additionally needs the payment account's own
 * authorization — the allow/auth the client sent with its submit, forwarded as it arrived — so the
 * bank, the account's guardian, checks it itself. Every operation is idempotent: holds, top-ups
 * and captures carry keys (a retried capture never pays twice), a release of a released hold moves
 * nothing.
 */
export { ESCROW_PATH, ESCROW_SERVICE } from '@dcp-emu/contracts';

/** Which identities may move escrowed money. */
export interface SchedulerTrust {
  trusts(address: string): Promise<boolean>;
}

const ops = ESCROW_OPERATIONS;
type Answer<K extends EscrowOperation> = z.input<(typeof ESCROW_OPERATIONS)[K]['response']>;
type CaptureBatchItemView = Answer<'captureBatch'>['results'][number];

function holdView(hold: Hold): z.input<typeof escrowHold> {
  return {
    hold: hold.id,
    account: hold.account,
    status: hold.status,
    held: formatDcc(hold.held),
    captured: formatDcc(hold.captured),
    remaining: formatDcc(hold.remaining),
  };
}

/** The payment account named inside the submit payload (`data` or the `jsonData` text). */
function submittedPaymentAccount(payload: Record<string, unknown>): unknown {
  let data = payload.data;
  if (data === undefined && typeof payload.jsonData === 'string') {
    try {
      data = JSON.parse(payload.jsonData);
    } catch {
      return undefined;
    }
  }
  return data && typeof data === 'object' ? (data as { paymentAccount?: unknown }).paymentAccount : undefined;
}

export function escrowOperations(bank: BankLedger, trust: SchedulerTrust): OperationRegistry {
  const crypto = getDefaultCrypto();
  const requireScheduler = async (peer: string) => {
    if (!(await trust.trusts(peer)))
      throw new DcpError(DcpErrorCode.EPERM, `${peer} is not a scheduler this bank works for`);
  };
  return new OperationRegistry()
    .register({
      operation: ops.hold.name,
      schema: ops.hold.request,
      handler: async (data, ctx): Promise<Answer<'hold'>> => {
        await requireScheduler(ctx.peer);
        const { payload, auth, accessor } = data.authorization;
        const authorized = authorizedResources(crypto, payload, auth, ctx.peer, accessor);
        if (
          !authorized.includes(data.paymentAccount.toLowerCase()) ||
          !sameAddress(submittedPaymentAccount(payload), data.paymentAccount)
        ) {
          throw new DcpError(
            DcpErrorCode.EPERM,
            `payment account ${data.paymentAccount} did not authorize this scheduler to spend for job ${data.job}`,
          );
        }
        try {
          const { hold, replayed } = await bank.hold.execute({
            account: parseAccountId(data.paymentAccount, 'payment account'),
            amount: parseDcc(data.amount),
            refs: { job: data.job },
            idempotencyKey: data.key,
          });
          return { ...holdView(hold), replayed };
        } catch (e) {
          // An account the bank has never credited is an empty one: to the client, that is ENOFUNDS.
          if (e instanceof DcpError && e.code === DcpErrorCode.ENOACCOUNT)
            throw new DcpError(
              DcpErrorCode.ENOFUNDS,
              `payment account ${data.paymentAccount} has no funds (needs ${data.amount} DCC in escrow)`,
            );
          throw e;
        }
      },
    })
    .register({
      operation: ops.increase.name,
      schema: ops.increase.request,
      handler: async (data, ctx): Promise<Answer<'increase'>> => {
        await requireScheduler(ctx.peer);
        const { hold, replayed } = await bank.increaseHold.execute(
          data.hold,
          parseDcc(data.amount),
          data.key,
        );
        return { ...holdView(hold), replayed };
      },
    })
    .register({
      operation: ops.capture.name,
      schema: ops.capture.request,
      handler: async (data, ctx): Promise<Answer<'capture'>> => {
        await requireScheduler(ctx.peer);
        const { hold, transaction, replayed } = await bank.capture.execute(
          data.hold,
          {
            to: data.to,
            amount: parseDcc(data.amount),
            ...(data.commission
              ? { commission: { to: data.commission.to, amount: parseDcc(data.commission.amount) } }
              : {}),
            ...(data.slice !== undefined ? { slice: data.slice } : {}),
            ...(data.worker !== undefined ? { worker: data.worker } : {}),
          },
          data.key,
        );
        return { ...holdView(hold), transaction: transaction.id, replayed };
      },
    })
    .register({
      operation: ops.captureBatch.name,
      schema: ops.captureBatch.request,
      handler: async (data, ctx): Promise<Answer<'captureBatch'>> => {
        await requireScheduler(ctx.peer);
        // Parse every item on its own: a malformed one fails alone.
        const parsed = data.captures.map((raw): BatchCapture | DcpError => {
          const item = captureRequest.safeParse(raw);
          if (!item.success)
            return new DcpError(
              DcpErrorCode.EINVAL,
              `malformed capture: ${item.error.issues[0]?.message ?? ''}`,
            );
          const c = item.data;
          try {
            return {
              hold: c.hold,
              key: c.key,
              payment: {
                to: c.to,
                amount: parseDcc(c.amount),
                ...(c.commission
                  ? { commission: { to: c.commission.to, amount: parseDcc(c.commission.amount) } }
                  : {}),
                ...(c.slice !== undefined ? { slice: c.slice } : {}),
                ...(c.worker !== undefined ? { worker: c.worker } : {}),
              },
            };
          } catch (e) {
            return e instanceof DcpError ? e : new DcpError(DcpErrorCode.EINVAL, String(e));
          }
        });
        const valid = parsed.filter((p): p is BatchCapture => !(p instanceof DcpError));
        const { outcomes, holds } = await bank.captureBatch.execute(valid);
        let next = 0;
        const results = parsed.map((p, i): CaptureBatchItemView => {
          const outcome: BatchCaptureOutcome =
            p instanceof DcpError ? { status: 'failed', error: p } : outcomes[next++]!;
          const raw = data.captures[i] as { key?: unknown } | null;
          const key = p instanceof DcpError ? (typeof raw?.key === 'string' ? raw.key : null) : p.key;
          return outcome.status === 'failed'
            ? { key, status: 'failed', code: outcome.error.code, message: outcome.error.message }
            : { key, status: outcome.status, transaction: outcome.transaction };
        });
        return { results, holds: holds.map(holdView) };
      },
    })
    .register({
      operation: ops.release.name,
      schema: ops.release.request,
      handler: async (data, ctx): Promise<Answer<'release'>> => {
        await requireScheduler(ctx.peer);
        const { hold, released, transaction } = await bank.release.execute(data.hold);
        return { ...holdView(hold), released: formatDcc(released), transaction: transaction?.id ?? null };
      },
    });
}

/**
 * Trust from configuration: the listed addresses, else the identity the scheduler at `schedulerUrl`
 * reports at `GET /api/identity` (asked when first needed, remembered once known).
 */
export class ConfiguredSchedulerTrust implements SchedulerTrust {
  #known: string[];

  constructor(
    addresses: readonly string[],
    private readonly schedulerUrl?: string,
    private readonly fetchJson: (url: string) => Promise<unknown> = async (url) =>
      (await fetch(url, { signal: AbortSignal.timeout(5000) })).json(),
  ) {
    this.#known = addresses.map((a) => a.toLowerCase());
  }

  async trusts(peer: string): Promise<boolean> {
    if (this.#known.includes(peer.toLowerCase())) return true;
    if (!this.schedulerUrl) return false;
    try {
      const body = (await this.fetchJson(new URL('api/identity', this.schedulerUrl).href)) as {
        address?: unknown;
      };
      if (typeof body.address === 'string' && /^0x[0-9a-fA-F]{40}$/.test(body.address)) {
        const found = body.address.toLowerCase();
        if (!this.#known.includes(found)) this.#known.push(found);
        return found === peer.toLowerCase();
      }
    } catch {
      // the scheduler is not reachable: not trusted this time, asked again next time
    }
    return false;
  }
}
