import { describe, expect, it } from 'vitest';
import { eh1, joinHashOf, parseComputeGroup, workerComputeGroups } from './compute-groups';

describe('compute groups', () => {
  it('eh1 is the EIP-191 keccak of the text', () => {
    // keccak256("\x19Ethereum Signed Message:\n5hello") — the well-known hashMessage("hello")
    expect(eh1('hello')).toBe('eh1-50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750');
  });

  it('hashes the public group as dcp-client does (joinHash "" → eh1("public undefined"))', () => {
    const [g] = workerComputeGroups([], false, 'SID');
    expect(g).toEqual({ joinKey: 'public', joinHashHash: eh1(`SID${eh1('public undefined')}`) });
  });

  it('salts each configured group with the dcpsid and can leave the public group', () => {
    const groups = [parseComputeGroup('mygroup,s3cret'), parseComputeGroup(`other,${eh1('x')}`)];
    const out = workerComputeGroups(groups, true, 'abc');
    expect(out).toEqual([
      { joinKey: 'mygroup', joinHashHash: eh1(`abc${eh1('mygroup s3cret')}`) },
      { joinKey: 'other', joinHashHash: eh1(`abc${eh1('x')}`) },
    ]);
    expect(joinHashOf({ joinKey: 'k', joinHash: ' eh1-ab cd ' })).toBe('eh1-abcd');
    expect(() => parseComputeGroup('nocomma')).toThrow(/joinKey,joinSecret/);
  });
});
