import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { type AccountId, ISSUANCE_ACCOUNT } from './account-id';
import { MAX_UNITS } from './amount';
import {
  accountBook,
  bookKey,
  checkBalanced,
  checkIdempotencyKey,
  checkRefs,
  deltaFor,
  type HoldId,
  holdBook,
} from './journal';

const alice = `0x${'a'.repeat(40)}` as AccountId;
const bob = `0x${'b'.repeat(40)}` as AccountId;
const hold = 'hold_1' as HoldId;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DcpError);
    return (e as DcpError).code;
  }
  throw new Error('expected a DcpError');
}

describe('the double-entry rule', () => {
  it('accepts balanced postings and returns them in lock (book-key) order', () => {
    const sorted = checkBalanced([
      { book: holdBook(hold), amount: 5n },
      { book: accountBook(bob), amount: -3n },
      { book: accountBook(alice), amount: -2n },
    ]);
    expect(sorted.map((p) => bookKey(p.book))).toEqual([`account:${alice}`, `account:${bob}`, 'hold:hold_1']);
  });

  it.each([
    ['a single posting', [{ book: accountBook(alice), amount: 0n }]],
    [
      'an unbalanced pair',
      [
        { book: accountBook(alice), amount: -2n },
        { book: accountBook(bob), amount: 3n },
      ],
    ],
    [
      'a zero leg',
      [
        { book: accountBook(alice), amount: 0n },
        { book: accountBook(bob), amount: 0n },
      ],
    ],
    [
      'the same book twice',
      [
        { book: accountBook(alice), amount: -2n },
        { book: accountBook(alice), amount: 2n },
      ],
    ],
    [
      'an out-of-range leg',
      [
        { book: accountBook(ISSUANCE_ACCOUNT), amount: -(MAX_UNITS + 1n) },
        { book: accountBook(alice), amount: MAX_UNITS + 1n },
      ],
    ],
  ])('refuses %s as an internal error', (_name, postings) => {
    expect(code(() => checkBalanced(postings))).toBe(DcpErrorCode.EINTERNAL);
  });

  it('computes the net effect of a transaction on an account', () => {
    const postings = [
      { book: holdBook(hold), amount: -5n },
      { book: accountBook(alice), amount: 4n },
      { book: accountBook(bob), amount: 1n },
    ];
    expect(deltaFor({ postings }, alice)).toBe(4n);
    expect(deltaFor({ postings }, ISSUANCE_ACCOUNT)).toBe(0n);
  });
});

describe('references and idempotency keys', () => {
  it('keeps valid references and drops absent ones', () => {
    expect(checkRefs({ job: 'job-1', slice: 0, worker: 'w', memo: undefined })).toEqual({
      job: 'job-1',
      slice: 0,
      worker: 'w',
    });
    expect(checkRefs()).toEqual({});
  });

  it.each([
    [{ job: '' }],
    [{ job: 'x'.repeat(257) }],
    [{ slice: -1 }],
    [{ slice: 1.5 }],
    [{ slice: '3' }],
    [{ worker: 42 }],
  ])('rejects malformed references %j with EINVAL', (refs) => {
    expect(code(() => checkRefs(refs))).toBe(DcpErrorCode.EINVAL);
  });

  it('requires idempotency keys to be short non-empty strings', () => {
    expect(checkIdempotencyKey('job-1:7')).toBe('job-1:7');
    expect(code(() => checkIdempotencyKey(''))).toBe(DcpErrorCode.EINVAL);
    expect(code(() => checkIdempotencyKey(undefined))).toBe(DcpErrorCode.EINVAL);
    expect(code(() => checkIdempotencyKey(7))).toBe(DcpErrorCode.EINVAL);
  });
});
