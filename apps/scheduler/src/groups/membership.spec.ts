import { describe, expect, it } from 'vitest';
import { eh1, joinHash } from '../tasks/matching';
import {
  claimedKey,
  groupOpaqueId,
  needsRegistryScan,
  PUBLIC_GROUP,
  PUBLIC_JOIN_HASH,
  privateKeys,
  provesMembership,
  verifiedGroups,
} from './membership';

const dcpsid = `${'a'.repeat(21)}${'B'.repeat(21)}`;
const otherDcpsid = `${'c'.repeat(21)}${'D'.repeat(21)}`;
const registry = new Map([
  ['lab', { joinHash: joinHash('lab', 's3cret') }],
  ['team', { joinHash: joinHash('team', 'other') }],
]);
/** What a worker sends for `-g joinKey,secret` on session `sid` (§4.11). */
const claim = (joinKey: string, secret: string | undefined, sid = dcpsid) => ({
  joinKey,
  joinHashHash: eh1(sid + eh1(`${joinKey} ${secret}`)),
});

describe('compute-group membership (joinHashHash = eh1(dcpsid + joinHash))', () => {
  it('the public joinHash is eh1("public undefined"), as dcp-client computes it', () => {
    expect(PUBLIC_JOIN_HASH).toBe(eh1('public undefined'));
    expect(PUBLIC_JOIN_HASH).toMatch(/^eh1-[0-9a-f]{64}$/);
  });

  it('verifies a registered group proved with the right secret on this session', () => {
    const groups = verifiedGroups([claim('lab', 's3cret'), claim('public', undefined)], dcpsid, registry);
    expect([...groups].sort()).toEqual(['lab', 'public']);
  });

  it('refuses a wrong secret', () => {
    expect(verifiedGroups([claim('lab', 'guess')], dcpsid, registry).size).toBe(0);
  });

  it("refuses a proof made with another session's dcpsid (no replay)", () => {
    const groups = verifiedGroups(
      [claim('lab', 's3cret', otherDcpsid), claim('public', undefined, otherDcpsid)],
      dcpsid,
      registry,
    );
    expect(groups.size).toBe(0);
    expect(
      provesMembership(
        claim('lab', 's3cret', otherDcpsid).joinHashHash,
        dcpsid,
        registry.get('lab') as { joinHash: string },
      ),
    ).toBe(false);
  });

  it('ignores unknown groups, claims without a hash and a missing dcpsid', () => {
    expect(verifiedGroups([claim('nobody-knows', 'x'), { joinKey: 'lab' }, {}], dcpsid, registry).size).toBe(
      0,
    );
    expect(verifiedGroups([claim('lab', 's3cret')], undefined, registry).size).toBe(0);
  });

  it("one group's secret does not open another group", () => {
    const forged = { joinKey: 'team', joinHashHash: claim('lab', 's3cret').joinHashHash };
    expect(verifiedGroups([forged], dcpsid, registry).size).toBe(0);
  });

  it('lists the private keys to look up, once each', () => {
    expect(privateKeys([claim('lab', 'x'), claim('public', undefined), claim('lab', 'y'), {}])).toEqual([
      'lab',
    ]);
    expect(privateKeys(undefined)).toEqual([]);
  });

  it('names groups by opaque id, by joinAddress, by the public descriptor, or by a bare proof', () => {
    const address = '0x52908400098527886E0F7030069857D2E4169EE7';
    const reg = new Map([...registry, [address, { joinHash: eh1(`${address} pw`) }]]);
    const proofOf = (hash: string) => eh1(dcpsid + hash);
    expect(claimedKey({ id: groupOpaqueId('lab') }, reg.keys())).toBe('lab');
    expect(claimedKey({ joinAddress: address.toLowerCase() }, reg.keys())).toBe(address);
    expect(claimedKey({ id: 1 }, reg.keys())).toBe('public');
    expect(claimedKey({ opaqueId: PUBLIC_GROUP.opaqueId }, reg.keys())).toBe('public');
    expect(claimedKey({ id: 'nope' }, reg.keys())).toBeUndefined();
    expect(groupOpaqueId('lab')).not.toBe(groupOpaqueId('team'));

    const groups = verifiedGroups(
      [
        { id: groupOpaqueId('lab'), joinHashHash: proofOf(joinHash('lab', 's3cret')) },
        { id: groupOpaqueId(address), joinAddress: address, joinHashHash: proofOf(eh1(`${address} pw`)) },
        // a worker configured without a joinKey sends its proof alone
        { joinHashHash: proofOf(joinHash('team', 'other')) },
      ],
      dcpsid,
      reg,
    );
    expect([...groups].sort()).toEqual([address, 'lab', 'team'].sort());
    // a bare proof opens nothing it does not prove; an id naming one group cannot borrow another's proof
    expect(verifiedGroups([{ joinHashHash: proofOf(joinHash('lab', 'guess')) }], dcpsid, reg).size).toBe(0);
    expect(
      verifiedGroups(
        [{ id: groupOpaqueId('team'), joinHashHash: proofOf(joinHash('lab', 's3cret')) }],
        dcpsid,
        reg,
      ).size,
    ).toBe(0);
    expect(needsRegistryScan([{ joinKey: 'lab' }, { id: 1 }])).toBe(false);
    expect(needsRegistryScan([{ joinHashHash: 'x' }])).toBe(true);
    expect(needsRegistryScan([{ id: 'abc' }])).toBe(true);
  });
});
