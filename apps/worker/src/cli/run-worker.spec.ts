import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, sameAddress, writeClientKeystores } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import { resolveIdentity, resolvePaymentAddress } from './run-worker';

const none = { identityKey: undefined, identityFile: undefined };

describe('worker identity and payment address', () => {
  it('uses ~/.dcp/id.keystore and ~/.dcp/default.keystore as dcp-worker does', () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    const keys = writeClientKeystores(join(home, '.dcp'));
    const identity = resolveIdentity(none, mkdtempSync(join(tmpdir(), 'data-')), home);
    expect(identity.address).toBe(keys.identity.address);
    expect(
      sameAddress(resolvePaymentAddress({ paymentAddress: undefined }, identity, home), keys.account.address),
    ).toBe(true);
    expect(
      resolvePaymentAddress({ paymentAddress: '0x00000000000000000000000000000000000000aa' }, identity, home),
    ).toBe('0x00000000000000000000000000000000000000aa');
  });

  it('without ~/.dcp: an identity created once in the data dir, which is also the payment address', () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    const data = mkdtempSync(join(tmpdir(), 'data-'));
    const a = resolveIdentity(none, data, home);
    expect(resolveIdentity(none, data, home).address).toBe(a.address);
    expect(resolvePaymentAddress({ paymentAddress: undefined }, a, home)).toBe(a.address);
  });

  it('--identityKey and -I win', () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    const keys = writeClientKeystores(join(home, '.dcp'));
    const hex = randomBytes(32).toString('hex');
    const other = Identity.fromPrivateKey(hex);
    expect(resolveIdentity({ identityKey: `0x${hex}`, identityFile: undefined }, home, home).address).toBe(
      other.address,
    );
    expect(
      resolveIdentity(
        { identityKey: undefined, identityFile: join(home, '.dcp/default.keystore') },
        home,
        home,
      ).address,
    ).toBe(keys.account.address);
  });
});
