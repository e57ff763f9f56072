import { type CryptoPort, recoverPersonal, sameAddress } from './crypto/port';
import type { AllowEntry } from './messages';

/**
 * Resource addresses (lower-case) that a request validly authorizes: an `allow` entry with
 * guardian == our address and accessor == the connection peer, and `auth[resource]` a personal
 * signature by the resource over JSON.stringify(rawPayload) — the payload exactly as it arrived,
 * before any `jsonData` → `data` rewrite.
 */
export function authorizedResources(
  crypto: CryptoPort,
  rawPayload: unknown,
  auth: Record<string, unknown> | undefined,
  guardian: string,
  accessor: string,
): string[] {
  if (!auth || !rawPayload || typeof rawPayload !== 'object') return [];
  const allow = (rawPayload as { allow?: unknown }).allow;
  if (!Array.isArray(allow) || allow.length === 0) return [];
  let payloadJson: string | undefined;
  const out: string[] = [];
  for (const entry of allow as Partial<AllowEntry>[]) {
    if (!entry || typeof entry.resource !== 'string') continue;
    if (!sameAddress(entry.guardian, guardian) || !sameAddress(entry.accessor, accessor)) continue;
    const resource = entry.resource.toLowerCase();
    if (out.includes(resource)) continue;
    const key = Object.keys(auth).find((k) => k.toLowerCase() === resource);
    if (!key || !auth[key]) continue;
    payloadJson ??= JSON.stringify(rawPayload);
    if (recoverPersonal(crypto, payloadJson, auth[key]) === resource) out.push(resource);
  }
  return out;
}
