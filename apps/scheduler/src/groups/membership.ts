import { eh1, joinHash } from '../tasks/matching';

/** What the scheduler knows of a group to check membership: its joinHash (never the secret). */
export interface KnownGroup {
  joinHash: string;
}

export interface ClaimedGroup {
  joinKey?: string;
  joinHashHash?: string;
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
  for (const c of claims ?? []) {
    if (!c.joinKey) continue;
    const group = c.joinKey === 'public' ? { joinHash: PUBLIC_JOIN_HASH } : registry.get(c.joinKey);
    if (group && provesMembership(c.joinHashHash, dcpsid, group)) out.add(c.joinKey);
  }
  return out;
}

/** The non-public join keys named in claims (to look up in the registry). */
export function privateKeys(claims: ClaimedGroup[] | undefined): string[] {
  return [
    ...new Set((claims ?? []).flatMap((c) => (c.joinKey && c.joinKey !== 'public' ? [c.joinKey] : []))),
  ];
}
