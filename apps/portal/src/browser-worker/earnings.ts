import { DcpErrorCode } from '@dcp-emu/protocol';
import { z } from 'zod';
import type { KeystoreSummary } from '../server/ports';
import { fail, ok, type Result } from '../server/result';

/** A bank account's figures as the browser worker page shows them (DCC as decimal strings). */
export interface AccountEarnings {
  address: string;
  balance: string;
  held: string;
}

const bankAccount = z.object({ address: z.string(), balance: z.string(), held: z.string() }).loose();
const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

export interface EarningsDeps {
  keystores: { list(userId: string): Promise<KeystoreSummary[]> };
  bankUrl: URL;
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  timeoutMs?: number;
}

/**
 * The balance of one of the user's bank accounts, read from the bank (`GET <bank>/api/accounts/:address`).
 * Only addresses of the user's own bank keystores are looked up, so the portal is no open proxy.
 */
export async function accountEarnings(
  deps: EarningsDeps,
  userId: string,
  address: string,
): Promise<Result<AccountEarnings>> {
  if (!addressSchema.safeParse(address).success)
    return fail(DcpErrorCode.EINVAL, 'not an account address (0x and 40 hex digits)');
  const mine = (await deps.keystores.list(userId)).some(
    (k) => k.kind === 'bank' && k.provenAt !== null && k.address.toLowerCase() === address.toLowerCase(),
  );
  if (!mine) return fail(DcpErrorCode.ENOENT, 'no bank account with this address in your keystores');
  const url = new URL(`api/accounts/${address.toLowerCase()}`, deps.bankUrl).href;
  const get = deps.fetch ?? ((u: string, init?: RequestInit) => fetch(u, init));
  let body: unknown;
  try {
    const res = await get(url, { signal: AbortSignal.timeout(deps.timeoutMs ?? 5_000), cache: 'no-store' });
    if (res.status === 404 && (await bankErrorCode(res)) === DcpErrorCode.ENOACCOUNT)
      // the bank opens accounts on their first credit: nothing earned yet
      return ok({ address: address.toLowerCase(), balance: '0', held: '0' });
    if (!res.ok) return fail(DcpErrorCode.EFETCH, `the bank answered HTTP ${res.status}`);
    body = await res.json();
  } catch (e) {
    return fail(DcpErrorCode.EFETCH, `the bank is not reachable: ${(e as Error).message}`);
  }
  const parsed = bankAccount.safeParse(body);
  if (!parsed.success) return fail(DcpErrorCode.EFETCH, 'the bank sent an account in an unknown shape');
  return ok({ address: parsed.data.address, balance: parsed.data.balance, held: parsed.data.held });
}

async function bankErrorCode(res: Response): Promise<string | undefined> {
  try {
    const body = (await res.json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}
