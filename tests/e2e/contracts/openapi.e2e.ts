import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeMessage, transferMessage } from '@dcp-emu/bank';
import { BANK_MESSAGE_TYPES, bankOpenApi, schedulerOpenApi } from '@dcp-emu/contracts';
import {
  cleanup,
  DCP_CLIENT,
  freePort,
  peerHome,
  type Proc,
  runClient,
  startBank,
  startOurWorker,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import Ajv2020 from 'ajv/dist/2020';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The generated OpenAPI documents (@dcp-emu/contracts) against live answers: a metered scheduler
 * and its bank (real processes, SQLite), our worker, an unmodified dcp-client 5.6.1 job; every route
 * of both documents is called and each JSON answer is validated (ajv, draft 2020-12) against the
 * schema the document names for that route and status. Response schemas forbid unknown
 * properties, so a field a service sends that its contract lacks fails here too.
 */

const ADMIN = 'contracts-e2e-admin-token';

const jobScript = `require(${JSON.stringify(DCP_CLIENT[5])}).init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([1, 2, 3], (x) => { progress(1); console.log('slice', x); return { x, twice: x * 2 }; });
  job.public.name = 'contracts e2e';
  job.on('accepted', () => console.log('OUT ' + JSON.stringify({ accepted: job.id })));
  try {
    const results = await job.exec(compute.marketRate);
    console.log('OUT ' + JSON.stringify({ done: Array.from(results).length }));
  } catch (e) {
    console.log('OUT ' + JSON.stringify({ failed: (e && e.code) || String(e) }));
  }
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.message)); process.exit(2); });
`;

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
};

/** Validates an answer of `method path` with `status` against the document's schema for it. */
function validator(doc: Record<string, unknown>, id: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uri', true);
  ajv.addSchema(doc, id);
  const seen = new Set<string>();
  const check = (method: string, path: string, status: number, body: unknown) => {
    const op = (doc as Doc).paths[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is in ${id}`).toBeDefined();
    const response = op?.responses[String(status)];
    expect(response, `${method} ${path} documents status ${status}`).toBeDefined();
    const schema = response?.content?.['application/json']?.schema as { $ref: string } | undefined;
    expect(schema, `${method} ${path} ${status} has a JSON schema`).toBeDefined();
    const validate = ajv.getSchema(`${id}${schema?.$ref}`);
    expect(validate, `${schema?.$ref} resolves`).toBeDefined();
    const valid = validate?.(body);
    expect(
      valid,
      `${method} ${path} ${status}: ${JSON.stringify(validate?.errors)}\n${JSON.stringify(body).slice(0, 2000)}`,
    ).toBe(true);
    seen.add(`${method.toLowerCase()} ${path} ${status}`);
  };
  return { check, seen };
}

describe('contracts: live answers of the scheduler and the bank match their generated OpenAPI', () => {
  let bank: Proc & { url: string };
  let scheduler: Proc & { url: string };
  let worker: Proc | undefined;
  const dirs: string[] = [];
  let home: string;
  let payer: string;
  let jobId = '';
  const sched = validator(schedulerOpenApi(), 'scheduler.json');
  const bnk = validator(bankOpenApi(), 'bank.json');

  const call = async (
    base: string,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; json: unknown }> => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(new URL(path.replace(/^\//, ''), base), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };
  /** Call the scheduler and check the answer against the route template `doc`. */
  const s = async (method: string, doc: string, path: string, body?: unknown) => {
    const r = await call(scheduler.url, method, path, body, ADMIN);
    sched.check(method, doc, r.status, r.json);
    return r;
  };
  const b = async (method: string, doc: string, path: string, body?: unknown) => {
    const r = await call(bank.url, method, path, body);
    bnk.check(method, doc, r.status, r.json);
    return r;
  };

  beforeAll(async () => {
    const bankDir = tempDir('contracts-bank-');
    const schedDir = tempDir('contracts-sched-');
    const workerDir = tempDir('contracts-worker-');
    dirs.push(bankDir, schedDir, workerDir);
    const schedulerPort = await freePort();
    bank = await startBank(bankDir, { DCP_EMU_SCHEDULER_URL: `http://127.0.0.1:${schedulerPort}/` });
    scheduler = await startScheduler(
      schedDir,
      { DCP_EMU_BANK_URL: bank.url, DCP_EMU_SETTLE_MS: '200', DCP_EMU_ADMIN_TOKEN: ADMIN },
      schedulerPort,
    );
    home = peerHome('contracts-client-');
    dirs.push(home);
    const keystore = JSON.parse(readFileSync(join(home, '.dcp', 'default.keystore'), 'utf8')) as {
      address: string;
    };
    payer = keystore.address.startsWith('0x') ? keystore.address : `0x${keystore.address}`;
    await b('POST', '/api/faucet', '/api/faucet', { address: payer, amount: '10' });
    worker = await startOurWorker(scheduler.url, workerDir);
    const client = runClient(home, writePeerFile(home, 'job.cjs', jobScript), {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      DCP_BUNDLE_AUTOUPDATE: 'false',
    });
    await client.exited;
    const out = client.out
      .split('\n')
      .filter((l) => l.startsWith('OUT '))
      .map((l) => JSON.parse(l.slice(4)) as { accepted?: string; done?: number; failed?: string });
    jobId = out.find((o) => o.accepted)?.accepted ?? '';
    expect(out.at(-1), client.out).toEqual({ done: 3 });
  }, 300_000);

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await scheduler?.stop();
    await bank?.stop();
    cleanup(...dirs);
  });

  it('the scheduler: every route, with a finished metered job', async () => {
    expect(jobId).not.toBe('');
    const list = await s('GET', '/api/jobs', `/api/jobs?account=${payer}`);
    expect((list.json as { total: number }).total).toBe(1);
    await s('GET', '/api/jobs', '/api/jobs?limit=0');
    await s('GET', '/api/jobs/{id}', `/api/jobs/${jobId}`);
    await s('GET', '/api/jobs/{id}', '/api/jobs/0xnothing');
    const slices = await s('GET', '/api/jobs/{id}/slices', `/api/jobs/${jobId}/slices`);
    expect((slices.json as { slices: unknown[] }).slices).toHaveLength(3);
    const escrow = await s('GET', '/api/jobs/{id}/escrow', `/api/jobs/${jobId}/escrow`);
    expect((escrow.json as { escrow: unknown }).escrow).not.toBeNull();
    await s('GET', '/api/jobs/{id}/results', `/api/jobs/${jobId}/results?from=1&limit=10`);
    await s('GET', '/api/jobs/{id}/events', `/api/jobs/${jobId}/events`);
    await s('POST', '/api/jobs/{id}/cancel', `/api/jobs/${jobId}/cancel`, { reason: 'done already' });
    await s('GET', '/api/workers', '/api/workers');
    const key = `contracts-${randomBytes(4).toString('hex')}`;
    await s('POST', '/api/compute-groups', '/api/compute-groups', {
      joinKey: key,
      name: 'c',
      commissionRate: '0.01',
    });
    await s('POST', '/api/compute-groups', '/api/compute-groups', {
      joinKey: key,
      name: 'c',
      commissionRate: '0.01',
    });
    await s('POST', '/api/compute-groups', '/api/compute-groups', { name: 'no key' });
    const groups = await s('GET', '/api/compute-groups', '/api/compute-groups?jobs=all');
    expect((groups.json as { groups: { joinKey: string }[] }).groups.map((g) => g.joinKey)).toContain(key);
    // the job runs in the public group (not listed: it is no registered group) until taken out
    const job = await s('GET', '/api/jobs/{id}', `/api/jobs/${jobId}`);
    expect((job.json as { groups: string[] }).groups).toEqual(['public']);
    await s('DELETE', '/api/compute-groups/{joinKey}/jobs/{job}', `/api/compute-groups/public/jobs/${jobId}`);
    await s('DELETE', '/api/compute-groups/{joinKey}/jobs/{job}', `/api/compute-groups/public/jobs/${jobId}`);
    await s('DELETE', '/api/compute-groups/{joinKey}', `/api/compute-groups/${key}`);
    await s('DELETE', '/api/compute-groups/{joinKey}', `/api/compute-groups/${key}`);
    await s('POST', '/api/schedmsg', '/api/schedmsg', { command: 'announce', payload: { hello: 1 } });
    // refused without credentials: the documented 401
    const refused = await call(scheduler.url, 'POST', '/api/schedmsg', { command: 'announce' });
    sched.check('POST', '/api/schedmsg', refused.status, refused.json);
  });

  it('the bank: every route, with the job’s money trail, a signed transfer and both bridge directions', async () => {
    const account = await b('GET', '/api/accounts/{address}', `/api/accounts/${payer}`);
    expect(account.status).toBe(200);
    await b('GET', '/api/accounts/{address}', '/api/accounts/not-an-address');
    await b('GET', '/api/accounts/{address}', `/api/accounts/0x${'0'.repeat(39)}1`);
    const history = await b(
      'GET',
      '/api/accounts/{address}/history',
      `/api/accounts/${payer}/history?limit=50`,
    );
    const holdId = (history.json as { entries: { transaction: { refs: { hold?: string } } }[] }).entries
      .map((e) => e.transaction.refs.hold)
      .find((h) => h !== undefined);
    expect(holdId).toBeDefined();
    await b('GET', '/api/holds/{id}', `/api/holds/${holdId}`);
    await b('GET', '/api/holds/{id}', '/api/holds/no-such-hold');
    const trail = await b('GET', '/api/jobs/{job}/trail', `/api/jobs/${jobId}/trail`);
    expect((trail.json as { steps: unknown[] }).steps.length).toBeGreaterThan(1);
    await b('GET', '/api/faucet', '/api/faucet');
    await b('POST', '/api/faucet', '/api/faucet', { address: payer, amount: 'lots' });

    const from = new Wallet(`0x${randomBytes(32).toString('hex')}`);
    await b('POST', '/api/faucet', '/api/faucet', { address: from.address, amount: '5' });
    const intent = {
      from: from.address,
      to: payer,
      amount: '1.5',
      nonce: `n-${randomBytes(6).toString('hex')}`,
    };
    const signature = await from.signMessage(transferMessage(intent));
    await b('POST', '/api/transfers', '/api/transfers', { ...intent, signature });
    await b('POST', '/api/transfers', '/api/transfers', { ...intent, signature });
    await b('POST', '/api/transfers', '/api/transfers', { ...intent, amount: '2', signature });

    const move = async (route: 'withdrawals' | 'deposits', nonce: string) => {
      const kind = route === 'withdrawals' ? 'withdrawal' : 'deposit';
      const values = { address: from.address, amount: '0.5', nonce };
      expect(JSON.parse(bridgeMessage(kind, values)).type).toBe(BANK_MESSAGE_TYPES[kind]);
      const body = { ...values, signature: await from.signMessage(bridgeMessage(kind, values)) };
      return b('POST', `/api/bridge/${route}`, `/api/bridge/${route}`, body);
    };
    expect((await move('withdrawals', 'w-1')).status).toBe(201);
    expect((await move('deposits', 'd-1')).status).toBe(201);
    await b('GET', '/api/bridge/accounts/{address}', `/api/bridge/accounts/${from.address}`);
    await b(
      'GET',
      '/api/bridge/accounts/{address}/transactions',
      `/api/bridge/accounts/${from.address}/transactions?limit=5`,
    );
    await b(
      'GET',
      '/api/bridge/accounts/{address}/transactions',
      `/api/bridge/accounts/${from.address}/transactions?limit=0`,
    );
  });

  it('every documented success answer was seen live', () => {
    for (const [v, doc] of [
      [sched, schedulerOpenApi()],
      [bnk, bankOpenApi()],
    ] as const) {
      for (const [path, ops] of Object.entries((doc as Doc).paths))
        for (const [method, op] of Object.entries(ops))
          for (const [status, response] of Object.entries(op.responses))
            if (status.startsWith('2') && response.content?.['application/json'])
              expect(v.seen, `${method} ${path} ${status}`).toContain(`${method} ${path} ${status}`);
    }
  });
});
