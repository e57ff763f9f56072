import { DcpErrorCode, dataUri, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openHarness,
  rangeJob,
  refusal,
  storeResults,
  type UseCaseHarness,
  viaRegistry,
} from '../usecase-harness.test';
import { fetchResultSchema } from './fetch-result.usecase';

const client = Identity.random().address;
const stranger = Identity.random().address;
const payer = Identity.random().address;

describe('FetchResult (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(rangeJob('j-1', payer, 5), client, 5, true);
    await h.core.submit.execute(rangeJob('j-none', payer, 2), client, 5, true);
    await storeResults(h, 'j-1', 3, (n) => ({ slice: n }));
  });
  afterAll(() => h?.close());

  const fetch = (data: unknown, peer = client, authorized: (a: string) => boolean = () => true) =>
    viaRegistry(fetchResultSchema, data, (d) => h.core.fetchResult.execute(d, peer, authorized)) as Promise<
      { slice: number; value: string }[]
    >;
  const decoded = (rows: { slice: number; value: string }[]) =>
    rows.map((r) => [r.slice, dataUri.decode(decodeURIComponent(r.value))]);

  it('answers every stored result as an encoded data: URI, or those of a range or a list', async () => {
    expect(decoded(await fetch({ job: 'j-1' }))).toEqual([
      [1, { slice: 1 }],
      [2, { slice: 2 }],
      [3, { slice: 3 }],
    ]);
    expect(decoded(await fetch({ job: 'j-1', range: { start: 2, end: 5 } })).map(([n]) => n)).toEqual([2, 3]);
    expect(
      decoded(await fetch({ job: 'j-1', range: [3, 1, 4, 0, 'x'] }))
        .map(([n]) => n)
        .sort(),
    ).toEqual([1, 3]);
    const [row] = await fetch({ job: 'j-1', range: [1] });
    expect(decodeURIComponent(row?.value ?? '')).toMatch(/^data:/);
  });

  it('refuses bad input (EINVAL), an owner that did not sign (EPERM), a stranger (EPERM), an unknown job (ENOENT)', async () => {
    expect((await refusal(fetch({}))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(fetch({ job: '' }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(fetch({ job: 'j-1', owner: 7 }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(fetch({ job: 'j-1', range: { start: 'a' } }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(fetch({ job: 'j-1', owner: client }, client, () => false))).code).toBe(
      DcpErrorCode.EPERM,
    );
    expect((await refusal(fetch({ job: 'j-1' }, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(fetch({ job: 'nope' }))).code).toBe(DcpErrorCode.ENOENT);
    // reading changes nothing
    expect(await h.ctx.store.sliceCounts('j-1')).toEqual({ queued: 2, leased: 0, done: 3 });
  });

  it('ENOENT while a job (or the asked range) has no results yet', async () => {
    expect((await refusal(fetch({ job: 'j-none' }))).code).toBe(DcpErrorCode.ENOENT);
    expect((await refusal(fetch({ job: 'j-1', range: [4, 5] }))).code).toBe(DcpErrorCode.ENOENT);
  });
});
