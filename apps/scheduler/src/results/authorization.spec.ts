import { Identity } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import { TaskAuthorizations } from './authorization';

describe('task authorizations', () => {
  const identity = Identity.random();
  const auth = (slices: number[]) => ({
    workerId: 'w',
    authSlices: { j: slices },
    schedulerId: {},
    jobCommissions: {},
  });

  it('accepts echoes of tasks it issued for the slices granted, by its own record of the grant', () => {
    const tasks = new TaskAuthorizations(identity);
    const signature = tasks.issue(auth([1, 2]));
    // a JSON trip turns the signature's bytes into plain objects: still recognised
    const echoed = JSON.parse(JSON.stringify({ owner: identity.address, signature, auth: auth([1, 2]) }));
    expect(() => tasks.check(echoed, 'j', [1])).not.toThrow();
    expect(() => tasks.check(echoed, 'j', [3])).toThrow(/not handed/);
    expect(() => tasks.check(echoed, 'other', [1])).toThrow(/not handed/);
    // our genuine signature with a widened grant: the record, not the message, decides
    expect(() => tasks.check({ ...echoed, auth: auth([1, 2, 3]) }, 'j', [3])).toThrow(/not handed/);
  });

  it('checks an echo it no longer remembers by signing its auth again; forged ones fail', () => {
    const before = new TaskAuthorizations(identity);
    const signature = before.issue(auth([5]));
    const restarted = new TaskAuthorizations(identity);
    expect(() =>
      restarted.check({ owner: identity.address, signature, auth: auth([5]) }, 'j', [5]),
    ).not.toThrow();
    expect(() =>
      restarted.check({ owner: identity.address, signature, auth: auth([5, 6]) }, 'j', [6]),
    ).toThrow(/does not verify/);
    expect(() =>
      restarted.check({ owner: Identity.random().address, signature, auth: auth([5]) }, 'j', [5]),
    ).toThrow(/not issued by this scheduler/);
    expect(() => restarted.check(undefined, 'j', [5])).toThrow(/missing/);
  });
});
