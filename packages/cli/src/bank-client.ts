import { accountView, type faucetRequest, faucetStatus } from '@dcp-emu/contracts';
import type { z } from 'zod';

/**
 * The few bank REST calls the CLI makes (answers checked with the bank's contracts) (`GET /api/accounts/:address`, `POST /api/faucet`). The
 * faucet needs the admin token once the bank listens beyond loopback (`up --host 0.0.0.0`).
 */
export async function balanceOf(bankUrl: string, address: string): Promise<string> {
  const res = await fetch(new URL(`api/accounts/${address}`, bankUrl), {
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status === 404) return '0'; // never funded: no account yet
  if (!res.ok) throw new Error(`bank: balance of ${address}: HTTP ${res.status} ${await res.text()}`);
  return accountView.parse(await res.json()).balance;
}

async function mint(bankUrl: string, address: string, amount: string, adminToken?: string): Promise<void> {
  const res = await fetch(new URL('api/faucet', bankUrl), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}),
    },
    body: JSON.stringify({ address, amount, memo: 'dcp-emu dev account' } satisfies z.input<
      typeof faucetRequest
    >),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok)
    throw new Error(`bank faucet: ${address} ${amount} DCC: HTTP ${res.status} ${await res.text()}`);
}

/** Tops `address` up to `target` DCC through the faucet (in pieces the faucet accepts); returns the balance. */
export async function fundTo(
  bankUrl: string,
  address: string,
  target: string,
  adminToken?: string,
): Promise<string> {
  const { formatDcc, parseDcc } = await import('@dcp-emu/protocol');
  const limitRes = await fetch(new URL('api/faucet', bankUrl), { signal: AbortSignal.timeout(10_000) });
  const maxPerMint = limitRes.ok ? parseDcc(faucetStatus.parse(await limitRes.json()).maxPerMint) : 0n;
  let missing = parseDcc(target) - parseDcc(await balanceOf(bankUrl, address), { sign: 'any' });
  while (missing > 0n) {
    const piece = maxPerMint > 0n && missing > maxPerMint ? maxPerMint : missing;
    await mint(bankUrl, address, formatDcc(piece), adminToken);
    missing -= piece;
  }
  return balanceOf(bankUrl, address);
}
