import { randomUUID } from 'node:crypto';
import { DcpErrorCode } from '@dcp-emu/protocol';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountHistory, earnings, faucet, listAccounts, transfer } from './bank/bank.usecase';
import { createGroup, deleteGroup, listGroups, removeJob } from './groups/groups.usecase';
import { explainJob, jobPage, listJobs } from './jobs/jobs.usecase';
import type { Portal } from './portal';
import { type RunningService, startService } from './services.fixture';
import { testPortal } from './test-portal.fixture';
import { workersPage } from './workers/workers.usecase';

/**
 * The portal's bank, compute-group, job and worker use cases against a real scheduler and bank
 * (their own processes) and a real SQLite portal database: what each user sees is theirs only.
 */
let scheduler: RunningService;
let bank: RunningService;
let portal: Portal;
let dispose: () => Promise<void>;
const alice = { id: randomUUID(), bank: Wallet.createRandom(), identity: Wallet.createRandom() };
const bob = { id: randomUUID(), bank: Wallet.createRandom(), identity: Wallet.createRandom() };

async function addUser(u: typeof alice, email: string) {
  await portal.users.create({ id: u.id, email, passwordHash: 'x' });
  for (const [kind, w] of [
    ['bank', u.bank],
    ['identity', u.identity],
  ] as const) {
    await portal.keystores.create({
      id: randomUUID(),
      userId: u.id,
      kind,
      label: `${email} ${kind}`,
      address: w.address.toLowerCase(),
      json: '{}',
      createdAt: new Date(),
      // stored as proven: these specs are about what a proven key grants (key-proof.usecase.spec proves)
      provenAt: new Date(),
    });
  }
}

beforeAll(async () => {
  // the portal reaches the services' mutating routes with the admin token, as `dcp-emu up` wires it
  const token = { DCP_EMU_ADMIN_TOKEN: randomUUID() };
  [scheduler, bank] = await Promise.all([startService('scheduler', token), startService('bank', token)]);
  const made = await testPortal('sqlite', undefined, {
    DCP_EMU_SCHEDULER_URL: scheduler.url,
    DCP_EMU_BANK_URL: bank.url,
    ...token,
  });
  portal = made.portal;
  dispose = made.dispose;
  await addUser(alice, 'alice@example.test');
  await addUser(bob, 'bob@example.test');
}, 120_000);

afterAll(async () => {
  await dispose?.();
  await Promise.all([scheduler?.stop(), bank?.stop()]);
});

describe('bank use cases', () => {
  it("lists a user's accounts with live balances; the faucet pays only into the user's own accounts", async () => {
    const a = alice.bank.address.toLowerCase();
    expect(await listAccounts(portal, alice.id)).toEqual({
      ok: true,
      value: [{ address: a, label: 'alice@example.test bank', balance: '0', held: '0' }],
    });
    const paid = await faucet(portal, alice.id, { address: alice.bank.address, amount: '25' });
    expect(paid.ok).toBe(true);
    const after = await listAccounts(portal, alice.id);
    expect(after.ok && after.value[0]?.balance).toBe('25');

    const stolen = await faucet(portal, bob.id, { address: a, amount: '1' });
    expect(stolen).toMatchObject({ ok: false, error: { code: DcpErrorCode.ENOENT } });
    const bad = await faucet(portal, alice.id, { address: a, amount: '0' });
    expect(bad).toMatchObject({ ok: false, error: { code: DcpErrorCode.EINVAL, field: 'amount' } });

    const history = await accountHistory(portal, alice.id, a);
    expect(history.ok && history.value.entries.map((e) => [e.transaction.reason, e.delta])).toEqual([
      ['mint', '25'],
    ]);
    expect(await accountHistory(portal, bob.id, a)).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
  });

  it('forwards a transfer signed in the browser; a signature by another key moves nothing', async () => {
    const from = alice.bank.address.toLowerCase();
    const to = bob.bank.address.toLowerCase();
    const intent = { from, to, amount: '5', nonce: `spec-${randomUUID()}` };
    const message = JSON.stringify({ type: 'dcp-emu/bank/transfer@1', ...intent });
    const forged = await transfer(portal, alice.id, {
      ...intent,
      signature: await bob.bank.signMessage(message),
    });
    expect(forged).toMatchObject({ ok: false, error: { code: DcpErrorCode.EPERM } });
    // bob cannot spend from alice's account even with a valid signature in hand
    const signature = await alice.bank.signMessage(message);
    expect(await transfer(portal, bob.id, { ...intent, signature })).toMatchObject({
      ok: false,
      error: { code: DcpErrorCode.ENOENT },
    });
    expect((await transfer(portal, alice.id, { ...intent, signature })).ok).toBe(true);
    const balances = async (userId: string) => {
      const r = await listAccounts(portal, userId);
      return r.ok ? r.value.map((x) => x.balance) : r.error.code;
    };
    expect(await balances(alice.id)).toEqual(['20']);
    expect(await balances(bob.id)).toEqual(['5']);
  });
});

describe('unproven keystores', () => {
  it("grant nothing: alice's addresses stored unproven by mallory show no account, history, group or earnings until proven", async () => {
    const mallory = randomUUID();
    await portal.users.create({ id: mallory, email: `mallory-${mallory}@example.test`, passwordHash: 'x' });
    const a = alice.bank.address.toLowerCase();
    const ids: string[] = [];
    for (const [kind, address] of [
      ['bank', a],
      ['identity', alice.identity.address.toLowerCase()],
    ] as const) {
      const id = randomUUID();
      ids.push(id);
      await portal.keystores.create({
        id,
        userId: mallory,
        kind,
        label: `forged ${kind}`,
        address,
        json: '{}',
        createdAt: new Date(),
        provenAt: null,
      });
    }
    expect(await listAccounts(portal, mallory)).toEqual({ ok: true, value: [] });
    expect(await accountHistory(portal, mallory, a)).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    expect(await faucet(portal, mallory, { address: a, amount: '1' })).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    expect(await listJobs(portal, mallory)).toEqual({ ok: true, value: [] });
    expect(await earnings(portal, mallory)).toEqual({ ok: true, value: [] });
    const group = await createGroup(portal, mallory, {
      joinKey: `m-${randomUUID().slice(0, 8)}`,
      name: 'not hers',
      commissionRate: '0',
      owner: a,
    });
    expect(group).toMatchObject({ ok: false, error: { code: DcpErrorCode.EINVAL, field: 'owner' } });

    // the positive control: once the key is proven (here: the record of it), the same row grants
    expect(await portal.keystores.markProven(mallory, ids[0] as string, new Date())).toMatchObject({
      address: a,
      provenAt: expect.any(Date),
    });
    const listed = await listAccounts(portal, mallory);
    expect(listed.ok && listed.value.map((r) => r.address)).toEqual([a]);
    expect((await accountHistory(portal, mallory, a)).ok).toBe(true);
    // another user cannot mark mallory's row
    expect(await portal.keystores.markProven(bob.id, ids[1] as string, new Date())).toBeNull();
    expect((await portal.keystores.list(mallory)).find((k) => k.id === ids[1])?.provenAt).toBeNull();
  });
});

describe('compute group use cases', () => {
  it('creates a group whose secret is returned once and never listed; only its creator sees and deletes it', async () => {
    const key = `lab-${randomUUID().slice(0, 8)}`;
    const made = await createGroup(portal, alice.id, {
      joinKey: key,
      name: 'Alice lab',
      commissionRate: '0.1',
    });
    if (!made.ok) throw new Error(made.error.message);
    expect(made.value.joinSecret).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(made.value.group.owner).toBe(alice.bank.address.toLowerCase());

    const listed = await listGroups(portal, alice.id);
    expect(listed.ok && listed.value.map((g) => [g.joinKey, g.name, g.commissionRate, g.jobs])).toEqual([
      [key, 'Alice lab', '0.1', []],
    ]);
    expect(JSON.stringify(listed)).not.toContain(made.value.joinSecret);
    const registry = await (await fetch(new URL('api/compute-groups', scheduler.url))).text();
    expect(registry).toContain(key);
    expect(registry).not.toContain(made.value.joinSecret);

    expect(await listGroups(portal, bob.id)).toEqual({ ok: true, value: [] });
    expect(await deleteGroup(portal, bob.id, key)).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    expect(await removeJob(portal, bob.id, key, 'anything')).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    const taken = await createGroup(portal, bob.id, { joinKey: key, name: 'Mine now', commissionRate: '0' });
    expect(taken).toMatchObject({ ok: false, error: { code: DcpErrorCode.EDUP, field: 'joinKey' } });
    const notHis = await createGroup(portal, bob.id, {
      joinKey: `x-${key}`,
      name: 'n',
      commissionRate: '0',
      owner: alice.bank.address,
    });
    expect(notHis).toMatchObject({ ok: false, error: { code: DcpErrorCode.EINVAL, field: 'owner' } });

    expect(await deleteGroup(portal, alice.id, key)).toEqual({ ok: true, value: { deleted: key } });
    expect(await (await fetch(new URL('api/compute-groups', scheduler.url))).text()).not.toContain(key);
    expect(await listGroups(portal, alice.id)).toEqual({ ok: true, value: [] });
  });
});

describe('job and worker use cases', () => {
  it('shows no jobs to a user without any, and answers ENOENT for unknown jobs', async () => {
    expect(await listJobs(portal, alice.id)).toEqual({ ok: true, value: [] });
    expect(await jobPage(portal, alice.id, 'no-such-job', new Date())).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    expect(await explainJob(portal, alice.id, 'no-such-job')).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
  });

  it("lists workers and the user's earnings per account", async () => {
    const page = await workersPage(portal, bob.id);
    expect(page).toEqual({
      ok: true,
      value: {
        workers: [],
        earnings: [
          {
            address: bob.bank.address.toLowerCase(),
            label: 'bob@example.test bank',
            earned: '0',
            payments: 0,
          },
        ],
      },
    });
    expect((await earnings(portal, alice.id)).ok).toBe(true);
  });

  it('tells the user what to do when the scheduler does not answer', async () => {
    const down = await testPortal('sqlite', undefined, {
      DCP_EMU_SCHEDULER_URL: 'http://127.0.0.1:9/',
      DCP_EMU_BANK_URL: bank.url,
    });
    try {
      await down.portal.users.create({ id: alice.id, email: 'a@example.test', passwordHash: 'x' });
      await down.portal.keystores.create({
        id: randomUUID(),
        userId: alice.id,
        kind: 'identity',
        label: 'id',
        address: alice.identity.address.toLowerCase(),
        json: '{}',
        createdAt: new Date(),
        provenAt: new Date(),
      });
      const jobs = await listJobs(down.portal, alice.id);
      expect(jobs).toMatchObject({ ok: false, error: { code: DcpErrorCode.EFETCH } });
      expect(!jobs.ok && jobs.error.message).toContain('check that dcp-emu is running');
    } finally {
      await down.dispose();
    }
  });
});
