import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { decryptKeystoreJson, encryptKeystoreJson, Wallet } from 'ethers';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPassphrase, createKeystore, KEYSTORE_SCRYPT_N, unlockKeystore } from './create';
import { parseKeystore } from './format';

const require = createRequire(import.meta.url);

interface DcpKeystore {
  address: { toString(): string };
  label?: string;
  unlock(passphrase: string, seconds: number, checkEmpty: boolean): Promise<void>;
  getPrivateKey(): Promise<{ toString(): string }>;
}
interface DcpWallet {
  Keystore: new (json: string | null, passphrase?: string) => Promise<DcpKeystore>;
  passphrasePrompt: () => Promise<string>;
}

/** The real dcp-client 5.6.1 wallet, initialised offline (no config download). */
let dcpWallet: DcpWallet;
beforeAll(async () => {
  const dcp = require('dcp-client') as { init(options: unknown): Promise<unknown> };
  await dcp.init({
    dcpConfig: { scheduler: { configLocation: false, location: new URL('http://127.0.0.1:9/') } },
  });
  dcpWallet = require('dcp/wallet') as DcpWallet;
  dcpWallet.passphrasePrompt = async () => {
    throw new Error('dcp-client prompted for a passphrase');
  };
});

const N = 2 ** 10; // fast for tests; the format is the same at any cost

describe('createKeystore (browser)', () => {
  it('makes an identity keystore in DCP format that dcp-client unlocks', async () => {
    const created = await createKeystore({ kind: 'identity', passphrase: 'hunter2 hunter2', scryptN: N });
    const parsed = JSON.parse(created.json) as Record<string, unknown> & { crypto: Record<string, unknown> };
    expect(parsed.version).toBe(3);
    expect(parsed.Crypto).toBeUndefined();
    expect(parsed['x-ethers']).toBeUndefined();
    expect(parsed.crypto).toMatchObject({
      cipher: 'aes-128-ctr',
      kdf: 'scrypt',
      kdfparams: { n: N, r: 8, p: 1, dklen: 32 },
    });
    expect(parsed).toMatchObject({
      label: 'id',
      process: 'dcp-emu portal',
      address: created.address.slice(2),
    });
    expect(created.address).toMatch(/^0x[0-9a-f]{40}$/);

    const ks = await new dcpWallet.Keystore(created.json);
    expect(String(ks.address).toLowerCase()).toBe(created.address);
    expect(ks.label).toBe('id');
    await ks.unlock('hunter2 hunter2', 5, false);
    const privateKey = String(await ks.getPrivateKey());
    expect(new Wallet(privateKey).address.toLowerCase()).toBe(created.address);
  });

  it('makes an empty-passphrase bank keystore that dcp-client unlocks without prompting', async () => {
    const created = await createKeystore({ kind: 'bank', passphrase: '', label: '  ', scryptN: N });
    expect(created.label).toBe('default');
    const ks = await new dcpWallet.Keystore(created.json);
    await ks.unlock('', 5, true);
    expect(new Wallet(String(await ks.getPrivateKey())).address.toLowerCase()).toBe(created.address);
  });

  it('uses a fresh key every time and the documented scrypt cost by default', async () => {
    const [a, b] = await Promise.all([
      createKeystore({ kind: 'identity', passphrase: 'x', scryptN: N }),
      createKeystore({ kind: 'identity', passphrase: 'x', scryptN: N }),
    ]);
    expect(a.address).not.toBe(b.address);
    const standard = await createKeystore({ kind: 'bank', passphrase: 'x', label: 'savings' });
    expect(standard.keystore.crypto.kdfparams).toMatchObject({ n: KEYSTORE_SCRYPT_N });
    expect(standard.label).toBe('savings');
    const account = await decryptKeystoreJson(standard.json, 'x');
    expect(account.address.toLowerCase()).toBe(standard.address);
  });

  it('reports progress while encrypting', async () => {
    const seen: number[] = [];
    await createKeystore({
      kind: 'identity',
      passphrase: 'p',
      scryptN: 2 ** 12,
      onProgress: (f) => seen.push(f),
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(1);
  });
});

describe('keystores made here and dcp-client 4.4 (the one dcp-worker 3.3.19 bundles)', () => {
  it('unlocks with the 4.4 wallet too', async () => {
    const created = await createKeystore({ kind: 'identity', passphrase: 'for the worker', scryptN: N });
    const client44 = dirname(
      require.resolve('dcp-client/package.json', {
        paths: [dirname(require.resolve('dcp-worker/package.json'))],
      }),
    );
    const script = `
      (async () => {
        const dcp = require(process.env.CLIENT);
        await dcp.init({ dcpConfig: { scheduler: { configLocation: false, location: new URL('http://127.0.0.1:9/') } } });
        const wallet = require('dcp/wallet');
        wallet.passphrasePrompt = async () => { throw new Error('prompted'); };
        const ks = await new wallet.Keystore(process.env.KEYSTORE);
        await ks.unlock('for the worker', 10, false);
        console.log(JSON.stringify({ version: require(process.env.CLIENT + '/package.json').version, key: String(await ks.getPrivateKey()) }));
        process.exit(0);
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: resolve(__dirname, '../../../../..'),
      env: { ...process.env, CLIENT: client44, KEYSTORE: created.json },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const { version, key } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      version: string;
      key: string;
    };
    expect(version).toMatch(/^4\.4\./);
    expect(new Wallet(key).address.toLowerCase()).toBe(created.address);
  });
});

describe('unlockKeystore (browser, to prove a key)', () => {
  it('signs with the key of the address the keystore records; refuses a wrong passphrase and a forged address', async () => {
    const created = await createKeystore({ kind: 'bank', passphrase: 'right', scryptN: N });
    const unlocked = await unlockKeystore(created.json, 'right');
    if (!unlocked.ok) throw new Error(unlocked.reason);
    expect(unlocked.unlocked.address).toBe(created.address);
    const signature = await unlocked.unlocked.sign('challenge text');
    const { verifyMessage } = await import('ethers');
    expect(verifyMessage('challenge text', signature).toLowerCase()).toBe(created.address);
    expect(await created.sign('challenge text')).toBe(signature);
    expect(await unlockKeystore(created.json, 'wrong')).toEqual({ ok: false, reason: 'passphrase' });
    const other = new Wallet(Wallet.createRandom().privateKey).address.slice(2).toLowerCase();
    const forged = JSON.stringify({ ...created.keystore, address: other });
    expect(await unlockKeystore(forged, 'right')).toEqual({ ok: false, reason: 'address' });
    expect(await unlockKeystore('{"version":3}', 'right')).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('checkPassphrase (browser)', () => {
  it('tells a right passphrase from a wrong one and from a damaged file', async () => {
    const created = await createKeystore({ kind: 'identity', passphrase: 'right', scryptN: N });
    expect(await checkPassphrase(created.json, 'right')).toEqual({ ok: true, address: created.address });
    expect(await checkPassphrase(created.json, 'wrong')).toEqual({ ok: false, reason: 'passphrase' });
    expect(await checkPassphrase('{"version":3}', 'right')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts and unlocks a keystore written by dcp-client itself (for upload)', async () => {
    const written = await new dcpWallet.Keystore(null, '');
    const json = JSON.stringify(written);
    const parsed = parseKeystore(json);
    expect(parsed.ok && parsed.address).toBe(String(written.address).toLowerCase());
    expect(await checkPassphrase(json, '')).toEqual({
      ok: true,
      address: String(written.address).toLowerCase(),
    });
  });

  it('unlocks keystores written by other tools (ethers, capitalised Crypto)', async () => {
    const wallet = new Wallet(Wallet.createRandom().privateKey);
    const json = await encryptKeystoreJson(wallet, 'geth', { scrypt: { N } });
    expect(await checkPassphrase(json, 'geth')).toEqual({ ok: true, address: wallet.address.toLowerCase() });
  });
});
