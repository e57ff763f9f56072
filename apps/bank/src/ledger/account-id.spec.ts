import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { accountKind, ISSUANCE_ACCOUNT, isSystemAccount, parseAccountId } from './account-id';

describe('account ids', () => {
  it('keys an account by its lower-cased DCP address, whatever the spelling', () => {
    const checksummed = '0x5c720e127AE33B66a7d7B676F0c3c1ea2CA11DE1';
    expect(parseAccountId(checksummed)).toBe(checksummed.toLowerCase());
    expect(parseAccountId(checksummed.toLowerCase())).toBe(parseAccountId(checksummed));
    expect(accountKind(parseAccountId(checksummed))).toBe('user');
  });

  it.each([
    '',
    '0x',
    '5c720e127AE33B66a7d7B676F0c3c1ea2CA11DE1',
    '0x5c720e127AE33B66a7d7B676F0c3c1ea2CA11DE',
    '0xZZ720e127AE33B66a7d7B676F0c3c1ea2CA11DE1',
    ISSUANCE_ACCOUNT,
    42,
    null,
  ])('rejects %j with EINVAL', (input) => {
    let error: unknown;
    try {
      parseAccountId(input, 'payment account');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DcpError);
    expect((error as DcpError).code).toBe(DcpErrorCode.EINVAL);
    expect((error as DcpError).message).toMatch(/^invalid payment account/);
  });

  it('reserves a system issuance account no client can name', () => {
    expect(isSystemAccount(ISSUANCE_ACCOUNT)).toBe(true);
    expect(accountKind(ISSUANCE_ACCOUNT)).toBe('system');
  });
});
