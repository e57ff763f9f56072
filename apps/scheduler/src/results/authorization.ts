import { DcpError, DcpErrorCode, type Identity, sameAddress } from '@dcp-emu/protocol/node';
import { z } from 'zod';

export const authorizationMessageSchema = z
  .object({
    owner: z.string(),
    signature: z.unknown(),
    auth: z.object({ authSlices: z.record(z.string(), z.array(z.number())).optional() }).loose(),
  })
  .loose();
export type AuthorizationMessage = z.infer<typeof authorizationMessageSchema>;

/** JSON with object keys sorted: workers echo `auth` with its keys reordered, so we sign this form. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Signature bytes in any of the forms they take after a JSON trip: Buffer-JSON, array, hex, indexed object. */
function bytes(x: unknown): string {
  if (typeof x === 'string') return x.replace(/^0x/, '').toLowerCase();
  if (Array.isArray(x)) return Buffer.from(x as number[]).toString('hex');
  if (x && typeof x === 'object') {
    const o = x as { data?: unknown };
    if (Array.isArray(o.data)) return Buffer.from(o.data as number[]).toString('hex');
    return Buffer.from(Object.values(x as Record<string, number>)).toString('hex');
  }
  return '';
}

function sameSignature(got: unknown, expected: { r: unknown; s: unknown; v: unknown }): boolean {
  if (!got || typeof got !== 'object') return false;
  const g = got as { r?: unknown; s?: unknown; v?: unknown };
  return (
    bytes(g.r) === bytes(expected.r) && bytes(g.s) === bytes(expected.s) && Number(g.v) === Number(expected.v)
  );
}

/**
 * The worker echoes the `{owner, signature, auth}` of the task that gave it a slice. It must be ours
 * (our deterministic signature over the canonical JSON of `auth`) and name the slice.
 */
export function checkAuthorization(
  identity: Identity,
  message: AuthorizationMessage | undefined,
  job: string,
  slices: number[],
): void {
  if (!message) throw new DcpError(DcpErrorCode.EPERM, 'missing authorizationMessage');
  if (!sameAddress(message.owner, identity.address))
    throw new DcpError(DcpErrorCode.EPERM, 'authorizationMessage was not issued by this scheduler');
  const expected = identity.sign(canonicalJson(message.auth)) as unknown as {
    r: unknown;
    s: unknown;
    v: unknown;
  };
  if (!sameSignature(message.signature, expected))
    throw new DcpError(DcpErrorCode.EPERM, 'authorizationMessage signature does not verify');
  const granted = message.auth.authSlices?.[job] ?? [];
  for (const s of slices)
    if (!granted.includes(s))
      throw new DcpError(DcpErrorCode.EPERM, `slice ${s} of ${job} was not handed to this worker`);
}
