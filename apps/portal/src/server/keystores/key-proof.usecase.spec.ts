import { DcpErrorCode, systemClock } from '@dcp-emu/protocol';
import { PROVIDERS } from '@dcp-emu/testing';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKeystore } from '../../lib/keystore/create';
import { userAddresses } from '../ownership';
import type { Portal } from '../portal';
import { testPortal } from '../test-portal.fixture';
import { MAX_CHALLENGES_PER_SESSION, memoryKeyChallenges } from './key-challenges';
import { issueKeyChallenge, KEY_CHALLENGE_TTL_MS, proveKeystore } from './key-proof.usecase';
import { listKeystores } from './keystores.usecase';
import { saveKeystore } from './save-keystore.usecase';

/**
 * A keystore grants its address's data only once the browser signed a challenge with its key: the
 * challenge is random, single-use, short-lived and bound to the session and the address.
 */
describe.each(PROVIDERS)('key proofs on %s', (provider) => {
  let portal: Portal;
  let dispose: () => Promise<void>;
  let now = Date.parse('2026-12-07T03:00:00Z');
  const alice = { userId: '00000000-0000-4000-8000-00000000a11c', sessionId: 'a'.repeat(64) };
  const aliceOther = { userId: alice.userId, sessionId: 'c'.repeat(64) };
  const mallory = { userId: '00000000-0000-4000-8000-0000000000ee', sessionId: 'e'.repeat(64) };

  beforeAll(async () => {
    ({ portal, dispose } = await testPortal(provider, inject('pgUrl')));
    portal = { ...portal, clock: { ...systemClock, now: () => now }, challenges: memoryKeyChallenges() };
    await portal.users.create({ id: alice.userId, email: 'alice@example.com', passwordHash: 'x' });
    await portal.users.create({ id: mallory.userId, email: 'mallory@example.com', passwordHash: 'x' });
  });
  afterAll(() => dispose());

  /** A challenge for `address` issued to `session`, signed by `signer`. */
  async function answer(
    session: typeof alice,
    address: string,
    signer: { signMessage(m: string): Promise<string> },
  ) {
    const c = issueKeyChallenge(portal, session, { address });
    if (!c.ok) throw new Error(c.error.message);
    return { challenge: c.value.id, signature: await signer.signMessage(c.value.message) };
  }

  async function upload(session: typeof alice, keystore: string, proof?: unknown) {
    return saveKeystore(
      portal,
      session.userId,
      { kind: 'bank', label: 'k', keystore, ...(proof ? { proof } : {}) },
      session.sessionId,
    );
  }

  const grants = async (userId: string) => [...(await userAddresses(portal, userId)).all];

  it('stores a keystore proven when its key signed a challenge of this session, and it grants its address', async () => {
    const made = await createKeystore({ kind: 'bank', passphrase: '', scryptN: 1024 });
    const c = issueKeyChallenge(portal, alice, { address: made.address.toUpperCase().replace('0X', '0x') });
    if (!c.ok) throw new Error(c.error.message);
    expect(c.value.id).toMatch(/^[0-9a-f]{64}$/);
    expect(c.value.address).toBe(made.address);
    expect(c.value.message).toContain(made.address);
    expect(c.value.message).toContain(c.value.id);
    expect(c.value.expiresAt.getTime()).toBe(now + KEY_CHALLENGE_TTL_MS);
    const saved = await upload(alice, made.json, {
      challenge: c.value.id,
      signature: await made.sign(c.value.message),
    });
    expect(saved).toMatchObject({ ok: true, value: { address: made.address, provenAt: new Date(now) } });
    expect(await grants(alice.userId)).toEqual([made.address]);
  });

  it('stores a keystore without proof unproven: downloadable, listed, granting nothing', async () => {
    const victim = Wallet.createRandom();
    const forged = await createKeystore({ kind: 'bank', passphrase: 'x', scryptN: 1024 });
    // mallory's file names the victim's address over random ciphertext
    const json = JSON.stringify({ ...forged.keystore, address: victim.address.slice(2).toLowerCase() });
    const saved = await upload(mallory, json);
    expect(saved).toMatchObject({
      ok: true,
      value: { address: victim.address.toLowerCase(), provenAt: null },
    });
    expect(await grants(mallory.userId)).toEqual([]);
    expect((await listKeystores(portal, mallory.userId)).map((k) => k.provenAt)).toEqual([null]);
  });

  it('refuses a proof signed by another key (the forged keystore): nothing stored, nothing granted', async () => {
    const victim = Wallet.createRandom();
    const forged = await createKeystore({ kind: 'identity', passphrase: 'x', scryptN: 1024 });
    const json = JSON.stringify({ ...forged.keystore, address: victim.address.slice(2) });
    const before = await listKeystores(portal, mallory.userId);
    // mallory signs the victim's challenge with the key she has
    const proof = await answer(mallory, victim.address, { signMessage: forged.sign });
    expect(await upload(mallory, json, proof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EBADSIG, field: 'proof' },
    });
    expect(await listKeystores(portal, mallory.userId)).toEqual(before);
    expect(await grants(mallory.userId)).toEqual([]);
    // and a malformed signature is refused as such
    const c = issueKeyChallenge(portal, mallory, { address: victim.address });
    if (!c.ok) throw new Error(c.error.message);
    expect(
      await upload(mallory, json, { challenge: c.value.id, signature: `0x${'00'.repeat(65)}` }),
    ).toMatchObject({ ok: false, error: { code: DcpErrorCode.EBADSIG } });
  });

  it('refuses a replayed challenge: each answers once', async () => {
    const made = await createKeystore({ kind: 'identity', passphrase: '', scryptN: 1024 });
    const proof = await answer(alice, made.address, { signMessage: made.sign });
    const first = await saveKeystore(
      portal,
      alice.userId,
      { kind: 'identity', label: 'id', keystore: made.json, proof },
      alice.sessionId,
    );
    expect(first).toMatchObject({ ok: true, value: { provenAt: expect.any(Date) } });
    // the same proof again, on a second (unproven) row of the same key: refused, the row stays unproven
    const second = await upload(alice, made.json);
    if (!second.ok) throw new Error(second.error.message);
    expect(await proveKeystore(portal, alice, second.value.id, proof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EEXPIRED },
    });
    expect(
      (await listKeystores(portal, alice.userId)).find((k) => k.id === second.value.id)?.provenAt,
    ).toBeNull();
  });

  it("refuses a challenge answered from another session, even the same user's; and burns it", async () => {
    const made = await createKeystore({ kind: 'bank', passphrase: '', scryptN: 1024 });
    const stored = await upload(alice, made.json);
    if (!stored.ok) throw new Error(stored.error.message);
    const proof = await answer(alice, made.address, { signMessage: made.sign });
    expect(await proveKeystore(portal, aliceOther, stored.value.id, proof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EEXPIRED },
    });
    // consumed by the failed attempt: the right session cannot use it afterwards either
    expect(await proveKeystore(portal, alice, stored.value.id, proof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EEXPIRED },
    });
    expect(await grants(alice.userId)).not.toContain(made.address);
    expect(
      (await listKeystores(portal, alice.userId)).find((k) => k.id === stored.value.id)?.provenAt,
    ).toBeNull();
    // a fresh challenge of the right session proves it
    const good = await answer(alice, made.address, { signMessage: made.sign });
    expect(await proveKeystore(portal, alice, stored.value.id, good)).toMatchObject({
      ok: true,
      value: { id: stored.value.id, provenAt: new Date(now) },
    });
  });

  it('refuses an expired challenge', async () => {
    const made = await createKeystore({ kind: 'identity', passphrase: '', scryptN: 1024 });
    const stored = await upload(alice, made.json);
    if (!stored.ok) throw new Error(stored.error.message);
    const proof = await answer(alice, made.address, { signMessage: made.sign });
    now += KEY_CHALLENGE_TTL_MS;
    expect(await proveKeystore(portal, alice, stored.value.id, proof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EEXPIRED },
    });
    expect(
      (await listKeystores(portal, alice.userId)).find((k) => k.id === stored.value.id)?.provenAt,
    ).toBeNull();
    // one just inside its lifetime is accepted
    const fresh = await answer(alice, made.address, { signMessage: made.sign });
    now += KEY_CHALLENGE_TTL_MS - 1;
    expect((await proveKeystore(portal, alice, stored.value.id, fresh)).ok).toBe(true);
  });

  it('refuses a challenge issued for another address, even signed by the right key', async () => {
    const mine = await createKeystore({ kind: 'bank', passphrase: '', scryptN: 1024 });
    const other = Wallet.createRandom();
    const stored = await upload(mallory, mine.json);
    if (!stored.ok) throw new Error(stored.error.message);
    // a challenge for another address, signed by the stored keystore's own key
    const proof = await answer(mallory, other.address, { signMessage: mine.sign });
    expect(await proveKeystore(portal, mallory, stored.value.id, proof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EBADSIG },
    });
    // and a challenge for the victim's address signed by the victim can't prove mallory's other row
    const victimProof = await answer(mallory, other.address, other);
    expect(await proveKeystore(portal, mallory, stored.value.id, victimProof)).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EBADSIG },
    });
    expect(await grants(mallory.userId)).toEqual([]);
  });

  it("cannot prove another user's keystore, and checks what it is sent", async () => {
    const aliceRows = await listKeystores(portal, alice.userId);
    const row = aliceRows[0];
    if (!row) throw new Error('alice has keystores by now');
    expect(
      await proveKeystore(portal, mallory, row.id, { challenge: 'a'.repeat(64), signature: '0x' }),
    ).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.ENOENT },
    });
    expect(issueKeyChallenge(portal, alice, { address: 'nope' })).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EINVAL, field: 'address' },
    });
    const made = await createKeystore({ kind: 'bank', passphrase: '', scryptN: 1024 });
    expect(await upload(alice, made.json, { challenge: 'x', signature: 'y' })).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.EINVAL },
    });
    // a proof needs a session to be bound to
    const proof = await answer(alice, made.address, { signMessage: made.sign });
    expect(
      await saveKeystore(portal, alice.userId, { kind: 'bank', label: 'k', keystore: made.json, proof }),
    ).toMatchObject({ ok: false, error: { code: DcpErrorCode.EPERM } });
  });

  it('keeps at most a few outstanding challenges per session (the oldest go first)', async () => {
    const key = Wallet.createRandom();
    const ids: string[] = [];
    const session = { userId: alice.userId, sessionId: 'f'.repeat(64) };
    for (let i = 0; i <= MAX_CHALLENGES_PER_SESSION; i++) {
      const c = issueKeyChallenge(portal, session, { address: key.address });
      if (!c.ok) throw new Error(c.error.message);
      ids.push(c.value.id);
    }
    expect(portal.challenges.take(ids[0] as string)).toBeNull();
    expect(portal.challenges.take(ids.at(-1) as string)).toMatchObject({ sessionId: session.sessionId });
  });
});
