import { DcpErrorCode } from '@dcp-emu/protocol';
import { PROVIDERS } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Portal } from '../portal';
import { resolveSession } from '../sessions/sessions';
import { testPortal } from '../test-portal.fixture';
import { changePassword } from './change-password.usecase';
import { signIn } from './sign-in.usecase';
import { signUp } from './sign-up.usecase';

describe.each(PROVIDERS)('accounts on %s', (provider) => {
  let portal: Portal;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ portal, dispose } = await testPortal(provider, inject('pgUrl')));
  });
  afterAll(() => dispose());

  it('signs up (email normalized, password hashed) and starts a session', async () => {
    const r = await signUp(portal, { email: '  Ada@Example.COM ', password: 'analytical engine' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.email).toBe('ada@example.com');
    const stored = await portal.users.findByEmail('ada@example.com');
    expect(stored?.passwordHash).toMatch(/^scrypt\$10\$/);
    expect(stored?.passwordHash).not.toContain('analytical');
    const session = await resolveSession(portal, r.value.token);
    expect(session).toMatchObject({ userId: r.value.userId, email: 'ada@example.com' });
  });

  it('refuses a taken email, a weak password and a bad email, naming the field', async () => {
    const dup = await signUp(portal, { email: 'ADA@example.com', password: 'another password' });
    expect(dup).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.EDUP, field: 'email' }),
    });
    const weak = await signUp(portal, { email: 'weak@example.com', password: 'short' });
    expect(weak).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.EINVAL, field: 'password' }),
    });
    const bad = await signUp(portal, { email: 'not-an-email', password: 'long enough pw' });
    expect(bad).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.EINVAL, field: 'email' }),
    });
    const missing = await signUp(portal, null);
    expect(missing.ok).toBe(false);
  });

  it('signs in with the right password only, and says the same for unknown emails', async () => {
    const good = await signIn(portal, { email: 'ada@example.com', password: 'analytical engine' });
    expect(good.ok).toBe(true);
    const wrong = await signIn(portal, { email: 'ada@example.com', password: 'difference engine' });
    const unknown = await signIn(portal, { email: 'nobody@example.com', password: 'difference engine' });
    expect(wrong).toEqual({ ok: false, error: { code: DcpErrorCode.EPERM, message: expect.any(String) } });
    expect(unknown).toEqual(wrong);
  });

  it('changes the password, keeps this session and ends the others', async () => {
    const a = await signIn(portal, { email: 'ada@example.com', password: 'analytical engine' });
    const b = await signIn(portal, { email: 'ada@example.com', password: 'analytical engine' });
    if (!a.ok || !b.ok) throw new Error('sign-in failed');
    const current = (await resolveSession(portal, a.value.token))!;

    const wrongCurrent = await changePassword(portal, current, {
      currentPassword: 'nope',
      newPassword: 'brand new password',
    });
    expect(wrongCurrent).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.EPERM, field: 'currentPassword' }),
    });
    const same = await changePassword(portal, current, {
      currentPassword: 'analytical engine',
      newPassword: 'analytical engine',
    });
    expect(same).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.EINVAL, field: 'newPassword' }),
    });

    const changed = await changePassword(portal, current, {
      currentPassword: 'analytical engine',
      newPassword: 'brand new password',
    });
    expect(changed.ok).toBe(true);
    if (!changed.ok) return;
    expect(changed.value.endedSessions).toBe(3); // b, and the sign-up and sign-in sessions of the earlier tests
    expect(await resolveSession(portal, a.value.token)).not.toBeNull();
    expect(await resolveSession(portal, b.value.token)).toBeNull();
    expect((await signIn(portal, { email: 'ada@example.com', password: 'analytical engine' })).ok).toBe(
      false,
    );
    expect((await signIn(portal, { email: 'ada@example.com', password: 'brand new password' })).ok).toBe(
      true,
    );
  });

  it('throttles repeated failed sign-ins for an email, even with the right password', async () => {
    expect((await signUp(portal, { email: 'mallory@example.com', password: 'right password' })).ok).toBe(
      true,
    );
    for (let i = 0; i < 5; i++) {
      const r = await signIn(portal, { email: 'mallory@example.com', password: `guess ${i}` });
      expect(r.ok ? '' : r.error.message).toMatch(/do not match/);
    }
    const locked = await signIn(portal, { email: 'mallory@example.com', password: 'right password' });
    expect(locked).toEqual({
      ok: false,
      error: { code: DcpErrorCode.EPERM, message: expect.stringMatching(/too many failed sign-ins/) },
    });
    expect((await signIn(portal, { email: 'ada@example.com', password: 'brand new password' })).ok).toBe(
      true,
    );
  });
});
