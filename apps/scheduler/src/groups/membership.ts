import { createHash } from 'node:crypto';
import { eh1, joinHash } from '../tasks/matching';

/** What the scheduler knows of a group to check membership: its joinHash (never the secret). */
export interface KnownGroup {
  joinHash: string;
}

/**
 * A group as a peer names it. dcp-client 5.6.1 / 4.4.x send `{joinKey, joinHashHash}`, the public
 * group's own descriptor (`id: 1`, `opaqueId`), or — for a descriptor without a joinKey —
 * `{id, joinAddress, joinHashHash}` (`compute-groups/index.js` buildCGJoinMessage), where the group's
 * joinHash is salted with the joinAddress instead of a joinKey. A worker configured without a joinKey
 * sends `{joinHashHash}` alone.
 */
export interface ClaimedGroup {
  joinKey?: string;
  joinHashHash?: string;
  id?: unknown;
  opaqueId?: unknown;
  joinAddress?: unknown;
}

/** DCP's hard-coded public group (`common/scheduler-constants.js`). */
export const PUBLIC_GROUP = { joinKey: 'public', id: 1, opaqueId: 'WHhetL7mj1w1mw1XV6dxyC' } as const;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The opaque id (22 characters, like DCP's nanoid opaqueIds) of a registered group: derived from its key. */
export function groupOpaqueId(joinKey: string): string {
  if (joinKey === PUBLIC_GROUP.joinKey) return PUBLIC_GROUP.opaqueId;
  const digest = createHash('sha256').update(`dcp-emu compute group ${joinKey}`).digest();
  let id = '';
  for (let i = 0; i < 22; i++) id += BASE62[digest[i]! % 62];
  return id;
}

function isPublicClaim(c: ClaimedGroup): boolean {
  return (
    c.joinKey === PUBLIC_GROUP.joinKey ||
    (!c.joinKey &&
      (c.id === PUBLIC_GROUP.id || c.id === PUBLIC_GROUP.opaqueId || c.opaqueId === PUBLIC_GROUP.opaqueId))
  );
}

/**
 * The registry key a claim names: its joinKey; else its joinAddress (address-salted groups are
 * registered under their joinAddress); else the registered group whose opaque id is its `id`.
 * 'public' for the public group; undefined when it names nothing we know.
 */
export function claimedKey(claim: ClaimedGroup, registryKeys: Iterable<string>): string | undefined {
  if (isPublicClaim(claim)) return PUBLIC_GROUP.joinKey;
  if (claim.joinKey) return claim.joinKey;
  const keys = [...registryKeys];
  if (typeof claim.joinAddress === 'string' && claim.joinAddress) {
    const address = claim.joinAddress.toLowerCase();
    return keys.find((k) => k.toLowerCase() === address);
  }
  const id =
    typeof claim.id === 'string' ? claim.id : typeof claim.opaqueId === 'string' ? claim.opaqueId : '';
  return id ? keys.find((k) => groupOpaqueId(k) === id) : undefined;
}

/** Does a claim name its group other than by joinKey (so the whole registry must be looked at)? */
export function needsRegistryScan(claims: ClaimedGroup[] | undefined): boolean {
  return (claims ?? []).some((c) => !c.joinKey && !isPublicClaim(c));
}

/** The public group's joinHash as dcp-client computes it (`eh1('public undefined')`). */
export const PUBLIC_JOIN_HASH = joinHash('public');

/** Does `joinHashHash` prove knowledge of the group's joinHash on session `dcpsid`? */
export function provesMembership(
  joinHashHash: string | undefined,
  dcpsid: string | undefined,
  group: KnownGroup,
) {
  return !!joinHashHash && !!dcpsid && joinHashHash === eh1(dcpsid + group.joinHash);
}

/**
 * Join keys whose membership a peer proved on session `dcpsid`: the public group always, other groups
 * only when registered. Unknown or unverifiable claims are ignored.
 */
export function verifiedGroups(
  claims: ClaimedGroup[] | undefined,
  dcpsid: string | undefined,
  registry: ReadonlyMap<string, KnownGroup>,
): Set<string> {
  const out = new Set<string>();
  const known = (key: string) =>
    key === PUBLIC_GROUP.joinKey ? { joinHash: PUBLIC_JOIN_HASH } : registry.get(key);
  for (const c of claims ?? []) {
    const named = !!c.joinKey || isPublicClaim(c) || c.joinAddress !== undefined || c.id !== undefined;
    if (named) {
      const key = claimedKey(c, registry.keys());
      const group = key === undefined ? undefined : known(key);
      if (key !== undefined && group && provesMembership(c.joinHashHash, dcpsid, group)) out.add(key);
      continue;
    }
    // a bare proof: whichever group it proves membership of
    for (const key of [PUBLIC_GROUP.joinKey, ...registry.keys()]) {
      const group = known(key);
      if (group && provesMembership(c.joinHashHash, dcpsid, group)) out.add(key);
    }
  }
  return out;
}

/** The non-public join keys named in claims (to look up in the registry). */
export function privateKeys(claims: ClaimedGroup[] | undefined): string[] {
  return [
    ...new Set((claims ?? []).flatMap((c) => (c.joinKey && c.joinKey !== 'public' ? [c.joinKey] : []))),
  ];
}
