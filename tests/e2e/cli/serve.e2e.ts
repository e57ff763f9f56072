import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  cleanup,
  DCP_CLIENT,
  freePortBase,
  freshDatabase,
  type Proc,
  peerHome,
  ROOT as REPO,
  runClient,
  startDcpWorker,
  startEvaluator,
  type TestDatabase,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const DEV_ACCOUNTS = [
  '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
];

/** The first non-internal IPv4 address of this machine: "another host" reaches the stack there. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

const jobScript = `
const { init } = require(${JSON.stringify(DCP_CLIENT[5])});
init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([1, 2, 3, 4], (x) => { progress(1); return x * 7; });
  job.public.name = 'serve e2e';
  job.on('accepted', () => console.log('ACCEPTED ' + job.id));
  // no dev accounts and no faucet on a served stack: a free job (this key has no DCC)
  const results = await job.exec(0);
  console.log('RESULTS ' + JSON.stringify(Array.from(results)));
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`;

const groupJobScript = `
const { init } = require(${JSON.stringify(DCP_CLIENT[5])});
init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([1, 2, 3], (x) => { progress(1); return x * 100; });
  job.public.name = 'serve group job';
  job.computeGroups = [{ joinKey: 'lan', joinSecret: 'lan-s3cret' }];
  job.on('accepted', () => console.log('ACCEPTED ' + job.id));
  const results = await job.exec(0);
  console.log('RESULTS ' + JSON.stringify(Array.from(results)));
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`;

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 120_000 }, (e, out, err) =>
      res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

/** `dcp-emu serve` on this machine's LAN address with PostgreSQL and --public-url. */
describe.skipIf(!lanAddress)(
  `dcp-emu serve on ${lanAddress ?? '(no non-loopback IPv4 address: skipped)'}`,
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-serve-'));
    let db: TestDatabase;
    let serve: ChildProcess | undefined;
    let exited: Promise<number | null> | undefined;
    let out = '';
    let err = '';
    let base = 0;
    let publicUrl = '';
    let home = '';
    const peers: Proc[] = [];

    beforeAll(async () => {
      db = await freshDatabase('postgresql', inject('pgUrl'));
      base = await freePortBase();
      publicUrl = `http://${lanAddress}:${base}/`;
      serve = spawn(
        process.execPath,
        [
          CLI,
          'serve',
          '--no-build',
          '--no-portal',
          '--workers',
          '2',
          '--data-dir',
          dataDir,
          '--port-base',
          String(base),
          '--host',
          lanAddress as string,
          '--database-url',
          db.url,
          '--public-url',
          publicUrl,
          '--log-max-size',
          '2k',
          '--log-keep',
          '2',
          '--log-level',
          'debug',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DCP_EMU_ADMIN_TOKEN: '' } },
      );
      serve.stderr?.on('data', (d) => {
        err += d;
      });
      exited = new Promise((res) => serve?.once('exit', (code) => res(code)));
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${out}\n${err}`)), 170_000);
        serve?.stdout?.on('data', (d) => {
          out += d;
          if (out.includes('export DCP_SCHEDULER_LOCATION=')) {
            clearTimeout(timer);
            res();
          }
        });
        exited?.then((code) => rej(new Error(`dcp-emu serve exited with ${code}:\n${out}\n${err}`)));
      });
      home = peerHome('dcp-emu-serve-client-');
    }, 200_000);

    afterAll(async () => {
      for (const p of peers) await p.stop('SIGKILL');
      serve?.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
      if (code === 'timeout') serve?.kill('SIGKILL');
      await db?.drop();
      cleanup(dataDir, home, ...peers.map((p) => (p as Proc & { home?: string }).home));
      expect(code).toBe(0);
    }, 60_000);

    it('prints the public URLs and the admin token once; no dev accounts', () => {
      expect(out).toContain(`export DCP_SCHEDULER_LOCATION=${publicUrl}`);
      expect(out).toContain(`bank       http://${lanAddress}:${base + 1}/`);
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect(out).toContain(`admin token (printed once; kept in the data dir's admin.token): ${token}`);
      expect(out).not.toMatch(/dev accounts \(mnemonic/);
      expect(err).not.toMatch(/funding \d+ dev accounts/);
    });

    it('serves a dcp-config (5.x and 4.x) with no loopback URL, bank teller included', async () => {
      for (const ver of ['2.1.0', '2.0.0']) {
        const text = await (await fetch(`${publicUrl}etc/dcp-config.kvin?ver=${ver}`)).text();
        const urls = [...text.matchAll(/https?:\/\/[^"'\s\\]+/g)].map((m) => m[0]);
        expect(urls.length).toBeGreaterThan(3);
        expect(urls.filter((u) => /127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0/.test(u))).toEqual([]);
        // nor a compose-internal service name (http://scheduler:7430/ & co.)
        expect(urls.filter((u) => /^https?:\/\/(scheduler|bank|portal|worker|postgres)[:/]/.test(u))).toEqual(
          [],
        );
        expect(
          urls.some((u) => u.startsWith(`http://${lanAddress}:${base + 1}/`) && u.includes('bank-teller')),
        ).toBe(true);
      }
    });

    it('the faucet refuses (with or without the admin token) and the dev accounts do not exist', async () => {
      const bank = `http://${lanAddress}:${base + 1}/`;
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const mint = (headers: Record<string, string>) =>
        fetch(`${bank}api/faucet`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ address: DEV_ACCOUNTS[0], amount: '5' }),
        });
      expect((await mint({})).status).toBe(401);
      const admin = await mint({ authorization: `Bearer ${token}` });
      expect(admin.status).toBe(403);
      expect(await admin.text()).toMatch(/faucet is disabled/);
      for (const a of DEV_ACCOUNTS) {
        const res = await fetch(`${bank}api/accounts/${a}`);
        expect(res.status).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ENOACCOUNT');
      }
    });

    it('a dcp-client 5.6.1 job through the public URL completes on the stack worker', async () => {
      const client = runClient(home, writePeerFile(home, 'serve-job.js', jobScript), {
        DCP_SCHEDULER_LOCATION: publicUrl,
        DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
      });
      await client.waitFor(/ACCEPTED (\S+)/, 120_000);
      await client.waitFor(/RESULTS \[7,14,21,28\]/, 120_000);
      expect(await client.exited).toBe(0);
    }, 260_000);

    it('/metrics of the scheduler and the bank need the admin token beyond loopback', async () => {
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      for (const url of [`${publicUrl}metrics`, `http://${lanAddress}:${base + 1}/metrics`]) {
        expect((await fetch(url)).status).toBe(401);
        const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        expect(ok.status).toBe(200);
        expect(await ok.text()).toMatch(/^# HELP dcp_(scheduler|bank)_/m);
      }
    });

    it('rotates the service logs at --log-max-size, keeping --log-keep files', () => {
      const logs = readdirSync(join(dataDir, 'logs'));
      expect(logs).toContain('scheduler.log.1');
      expect(logs.filter((f) => /\.log\.\d+$/.test(f)).every((f) => /\.log\.[12]$/.test(f))).toBe(true);
      // whole writes: a file ends over the limit by at most the one write that started it
      for (const f of logs)
        expect(statSync(join(dataDir, 'logs', f)).size).toBeLessThan(2 * 1024 + 64 * 1024);
    });

    it('`dcp-emu env` and `status` print the public URLs', async () => {
      const env = await cli(['env', '--data-dir', dataDir]);
      expect(env.code, env.err).toBe(0);
      expect(env.out).toBe(`export DCP_SCHEDULER_LOCATION=${publicUrl}\n`);
      const status = await cli(['status', '--data-dir', dataDir]);
      expect(status.code, status.out + status.err).toBe(0);
      expect(status.out).toMatch(new RegExp(`scheduler +up +${publicUrl.replace(/\./g, '\\.')}`));
      expect(status.out).toContain(`http://${lanAddress}:${base + 1}/`);
      const json = JSON.parse((await cli(['status', '--json', '--data-dir', dataDir])).out) as {
        services: { name: string; publicUrl?: string }[];
      };
      expect(json.services.find((x) => x.name === 'scheduler')?.publicUrl).toBe(publicUrl);
      expect(json.services.find((x) => x.name === 'bank')?.publicUrl).toBe(
        `http://${lanAddress}:${base + 1}/`,
      );
    });

    it("a group created by its owner: a dcp-client job deployed to it runs on an unmodified dcp-worker 3.3.19 --join'ed to it (not on the stack's public workers)", async () => {
      const env = { DCP_SCHEDULER_LOCATION: publicUrl, DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1' };
      // the owner (the client's own key) creates the group over DCP, through the public URL
      const cg = runClient(home, join(REPO, 'node_modules/dcp-util/bin/cg-utility'), env, [
        'create',
        'LAN group',
        '--joinKey',
        'lan',
        '--joinSecret',
        'lan-s3cret',
        '--commissionRate',
        '0',
        '--json',
      ]);
      expect(await cg.exited, cg.out).toBe(0);
      expect(cg.out).toMatch(/"success":\s*true/);

      const evaluator = await startEvaluator();
      peers.push(evaluator);
      const worker = await startDcpWorker(publicUrl, evaluator.port, 1, [
        '--join',
        'lan,lan-s3cret',
        '--leavePublicGroup',
      ]);
      peers.push(worker);
      expect(worker.out).toMatch(/Joining compute group lan/);
      expect(worker.out).toMatch(/Leaving the global compute group/);

      const client = runClient(home, writePeerFile(home, 'group-job.js', groupJobScript), env);
      const jobId = (await client.waitFor(/ACCEPTED (\S+)/, 120_000))[1] as string;
      await client.waitFor(/RESULTS \[100,200,300\]/, 180_000);
      expect(await client.exited).toBe(0);
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const job = (await (
        await fetch(`${publicUrl}api/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { groups: string[]; status: string };
      expect(job).toMatchObject({ groups: ['lan'], status: 'finished' });
      await worker.waitFor(/(?:[\s\S]*?Slice Completed: ){3}/, 30_000);
    }, 400_000);
  },
);
