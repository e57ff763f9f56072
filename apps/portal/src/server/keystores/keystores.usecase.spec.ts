import { DcpErrorCode, VirtualClock } from '@dcp-emu/protocol';
import { PROVIDERS } from '@dcp-emu/testing';
import { decryptKeystoreJson } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKeystore } from '../../lib/keystore/create';
import type { Portal } from '../portal';
import { testPortal } from '../test-portal.fixture';
import { deleteKeystore, downloadKeystore, listKeystores } from './keystores.usecase';
import { saveKeystore } from './save-keystore.usecase';

describe.each(PROVIDERS)('keystores on %s', (provider) => {
  let portal: Portal;
  let dispose: () => Promise<void>;
  const alice = '00000000-0000-4000-8000-00000000a11c';
  const bob = '00000000-0000-4000-8000-000000000b0b';

  beforeAll(async () => {
    ({ portal, dispose } = await testPortal(provider, inject('pgUrl')));
    await portal.users.create({ id: alice, email: 'alice@example.com', passwordHash: 'x' });
    await portal.users.create({ id: bob, email: 'bob@example.com', passwordHash: 'x' });
  });
  afterAll(() => dispose());

  it('saves an encrypted keystore, lists it and serves it as id.keystore', async () => {
    const made = await createKeystore({ kind: 'identity', passphrase: 'pw', scryptN: 1024 });
    const saved = await saveKeystore(portal, alice, {
      kind: 'identity',
      label: 'laptop',
      keystore: made.json,
    });
    expect(saved).toEqual({
      ok: true,
      value: {
        id: expect.any(String),
        kind: 'identity',
        label: 'laptop',
        address: made.address,
        createdAt: expect.any(Date),
        // stored without a proof of its key: listed and downloadable, granting nothing
        provenAt: null,
      },
    });
    if (!saved.ok) return;
    expect(await listKeystores(portal, alice)).toEqual([saved.value]);

    const file = await downloadKeystore(portal, alice, saved.value.id);
    expect(file.ok).toBe(true);
    if (!file.ok) return;
    expect(file.value.fileName).toBe('id.keystore');
    const json = JSON.parse(file.value.json) as Record<string, unknown>;
    expect(json.label).toBe('laptop'); // the label dcp-client shows follows the one chosen here
    expect(json.crypto).toEqual(made.keystore.crypto);
    expect((await decryptKeystoreJson(file.value.json, 'pw')).address.toLowerCase()).toBe(made.address);
  });

  it('serves bank keystores as default.keystore', async () => {
    const made = await createKeystore({ kind: 'bank', passphrase: '', scryptN: 1024 });
    const later = { ...portal, clock: new VirtualClock({ offsetMs: 60_000 }) };
    const saved = await saveKeystore(later, alice, {
      kind: 'bank',
      label: 'default',
      keystore: JSON.parse(made.json),
    });
    if (!saved.ok) throw new Error(saved.error.message);
    const file = await downloadKeystore(portal, alice, saved.value.id);
    expect(file.ok && file.value.fileName).toBe('default.keystore');
    const list = await listKeystores(portal, alice);
    expect(list.map((k) => k.kind)).toEqual(['bank', 'identity']); // newest first
  });

  it('keeps users apart: another user can neither list, download nor delete', async () => {
    const [mine] = await listKeystores(portal, alice);
    expect(mine).toBeDefined();
    expect(await listKeystores(portal, bob)).toEqual([]);
    expect(await downloadKeystore(portal, bob, mine!.id)).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.ENOENT }),
    });
    expect(await deleteKeystore(portal, bob, mine!.id)).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.ENOENT }),
    });
    expect(await listKeystores(portal, alice)).toHaveLength(2);
  });

  it('lets two users keep the same key, but one user only once per kind', async () => {
    const made = await createKeystore({ kind: 'identity', passphrase: 'pw', scryptN: 1024 });
    const body = { kind: 'identity', label: 'shared', keystore: made.json };
    expect((await saveKeystore(portal, bob, body)).ok).toBe(true);
    expect((await saveKeystore(portal, alice, body)).ok).toBe(true);
    expect(await saveKeystore(portal, alice, body)).toEqual({
      ok: false,
      error: expect.objectContaining({ code: DcpErrorCode.EDUP, field: 'keystore' }),
    });
    expect((await saveKeystore(portal, alice, { ...body, kind: 'bank' })).ok).toBe(true);
  });

  it('refuses what is not an encrypted v3 keystore', async () => {
    const made = await createKeystore({ kind: 'identity', passphrase: 'pw', scryptN: 1024 });
    const refuse = async (body: unknown, field: string) => {
      const r = await saveKeystore(portal, alice, body);
      expect(r).toEqual({ ok: false, error: expect.objectContaining({ code: DcpErrorCode.EINVAL, field }) });
    };
    await refuse({ kind: 'identity', label: 'x', keystore: '{"version":3}' }, 'keystore');
    await refuse({ kind: 'identity', label: 'x', keystore: 'not json' }, 'keystore');
    await refuse(
      { kind: 'identity', label: 'x', keystore: { ...made.keystore, privateKey: '0x01' } },
      'keystore',
    );
    await refuse({ kind: 'wallet', label: 'x', keystore: made.json }, 'kind');
    await refuse({ kind: 'identity', label: '   ', keystore: made.json }, 'label');
    await refuse({ kind: 'identity', label: 'a\u0000b', keystore: made.json }, 'label');
  });

  it('deletes a keystore of the user, once', async () => {
    const [first] = await listKeystores(portal, alice);
    expect(await deleteKeystore(portal, alice, first!.id)).toEqual({ ok: true, value: { id: first!.id } });
    expect((await deleteKeystore(portal, alice, first!.id)).ok).toBe(false);
    expect((await downloadKeystore(portal, alice, 'not-a-uuid')).ok).toBe(false);
  });
});
