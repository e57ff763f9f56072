import { getDefaultCrypto, personalHash } from '@dcp-emu/protocol';

/** A compute group the worker joins: `-g joinKey,joinSecret` or `-g joinKey,eh1-<joinHash>`. */
export interface ComputeGroupCredentials {
  joinKey: string;
  joinSecret?: string;
  joinHash?: string;
}

/** DCP's eh1 hash: `eh1-` + hex(keccak256(EIP-191 personal message of `text`)). */
export function eh1(text: string): string {
  return `eh1-${hex(personalHash(getDefaultCrypto(), text))}`;
}

/** joinHash = the configured one, or eh1(`${joinKey} ${joinSecret}`) (the public group: 'public undefined'). */
export function joinHashOf(group: ComputeGroupCredentials): string {
  if (group.joinHash) return group.joinHash.replace(/\s+/g, '');
  return eh1(`${group.joinKey} ${group.joinSecret}`);
}

/**
 * `workerComputeGroups` of a requestTask (§4.11): every configured group plus the public one unless
 * left, each as `{joinKey, joinHashHash: eh1(dcpsid + joinHash)}` salted with the TD session's dcpsid.
 */
export function workerComputeGroups(
  groups: readonly ComputeGroupCredentials[],
  leavePublicGroup: boolean,
  dcpsid: string,
): { joinKey: string; joinHashHash: string }[] {
  const all = groups.filter((g) => g.joinKey !== 'public');
  if (!leavePublicGroup) all.push({ joinKey: 'public', joinHash: '' });
  return all.map((g) => ({ joinKey: g.joinKey, joinHashHash: eh1(dcpsid + joinHashOf(g)) }));
}

/** Parses dcp-worker's `-g` value: `joinKey,joinSecret` or `joinKey,eh1-…` (a join hash). */
export function parseComputeGroup(spec: string): ComputeGroupCredentials {
  const comma = spec.indexOf(',');
  if (comma <= 0) throw new Error(`compute group "${spec}" must be joinKey,joinSecret`);
  const joinKey = spec.slice(0, comma);
  const secret = spec.slice(comma + 1);
  return secret.startsWith('eh1-') ? { joinKey, joinHash: secret } : { joinKey, joinSecret: secret };
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
