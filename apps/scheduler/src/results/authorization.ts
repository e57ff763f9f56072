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

const signatureKey = (sig: { r?: unknown; s?: unknown; v?: unknown }) =>
  `${bytes(sig.r)}:${bytes(sig.s)}:${Number(sig.v)}`;

/** How many issued tasks are remembered for the fast check (older ones are checked the slow way). */
const REMEMBERED_TASKS = 50_000;

/**
 * Task authorizations: `issue` signs a task's `auth` (the reply of requestTask) and remembers what it
 * granted under its signature; `check` accepts a worker's echo when it carries a signature we issued
 * and the slices were granted in that task — by our own record, in O(1), with no signing on the
 * result path. An echo we no longer remember (a restart, a very old task) is checked by signing its
 * `auth` again (`checkAuthorization`).
 */
export class TaskAuthorizations {
  readonly #granted = new Map<string, Map<string, Set<number>>>();

  constructor(private readonly identity: Identity) {}

  issue(auth: { authSlices: Record<string, number[]> } & Record<string, unknown>): unknown {
    const signature = this.identity.sign(canonicalJson(auth)) as unknown as {
      r: unknown;
      s: unknown;
      v: unknown;
    };
    const grants = new Map(Object.entries(auth.authSlices).map(([job, slices]) => [job, new Set(slices)]));
    this.#granted.set(signatureKey(signature), grants);
    if (this.#granted.size > REMEMBERED_TASKS) {
      const oldest = this.#granted.keys().next().value;
      if (oldest !== undefined) this.#granted.delete(oldest);
    }
    return signature;
  }

  check(message: AuthorizationMessage | undefined, job: string, slices: number[]): void {
    const sig = message?.signature;
    const grants =
      message && sameAddress(message.owner, this.identity.address) && sig && typeof sig === 'object'
        ? this.#granted.get(signatureKey(sig as { r?: unknown; s?: unknown; v?: unknown }))
        : undefined;
    if (!grants) {
      checkAuthorization(this.identity, message, job, slices);
      return;
    }
    const granted = grants.get(job);
    for (const s of slices)
      if (!granted?.has(s))
        throw new DcpError(DcpErrorCode.EPERM, `slice ${s} of ${job} was not handed to this worker`);
  }
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
