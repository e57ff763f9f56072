import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppModule, BANK_LEDGER, type BankLedger, dcc, loadBankConfig, TELLER_TARGET } from '@dcp-emu/bank';
import { type RunningService, startService } from '@dcp-emu/nest-kit';
import { type DcpTarget, encodeConfig, Identity, writeClientKeystores } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Acceptance: the unmodified tools users already have, against our bank's DCP teller.
 * dcp-util 2.3.14 `bank-utility` (dcp-client 4.4.29 inside) and dcp-client 5.6.1 `bin/dcp-bank` run as
 * an unprivileged user with their own HOME; their config comes from a tiny config server (standing
 * in for the scheduler's `/etc/dcp-config.kvin`) that points `bank.services.bankTeller` at the bank.
 */

const ROOT = resolve(__dirname, '../../..');
const BANK_UTILITY = join(ROOT, 'node_modules/dcp-util/bin/bank-utility');
const DCP_BANK = join(ROOT, 'node_modules/dcp-client/bin/dcp-bank');

function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return {
    uid: Number(execFileSync('id', ['-u', 'nobody']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'nobody']).toString().trim()),
  };
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), ids);
}

/** A HOME with `~/.dcp/{id,default}.keystore` (empty passphrases), owned by the peer user. */
function peerHome(): { home: string; account: Identity } {
  const home = mkdtempSync(join(tmpdir(), 'dcp-emu-bank-peer-'));
  const { account } = writeClientKeystores(join(home, '.dcp'));
  const ids = unprivileged();
  if (ids) chownTree(home, ids);
  return { home, account };
}

/** Runs a tool to completion (bounded), as the peer user; stdout+stderr and exit code. */
function runTool(
  script: string,
  args: string[],
  home: string,
  configUrl: string,
): Promise<{ code: number | null; out: string }> {
  const ids = unprivileged();
  const child = spawn(process.execPath, [script, ...args], {
    cwd: home,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      DCP_SCHEDULER_LOCATION: configUrl,
      DCP_BUNDLE_AUTOUPDATE: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(ids ?? {}),
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${script} ${args.join(' ')} did not finish in 45 s:\n${out}`));
    }, 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}

/** The dcp-client config a scheduler hands out, with the bank's teller for this generation. */
function configServer(bankUrl: string, target: DcpTarget): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/etc/dcp-config.kvin') {
      res.writeHead(404).end();
      return;
    }
    const generation = url.searchParams.get('ver')?.startsWith('2.0') ? 4 : 5;
    const self = new URL(`http://${req.headers.host}/`);
    const teller = target.locations(bankUrl, generation).bankTeller;
    const config = {
      scheduler: {
        location: self,
        compatibility: { minimum: { dcp: '^5.0.0' } },
        services: {},
      },
      bank: { location: teller, services: { bankTeller: { location: teller } } },
    };
    res.writeHead(200, { 'content-type': 'application/x-kvin' }).end(encodeConfig(config, generation));
  });
  return new Promise((res) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      res({ server, url: `http://127.0.0.1:${port}/` });
    }),
  );
}

describe('bank: unmodified DCP bank tools against the teller', () => {
  let bank: RunningService;
  let dataDir: string;
  let config: { server: Server; url: string };
  const homes: string[] = [];

  const rest = async (path: string, body?: unknown) => {
    const res = await fetch(new URL(path, bank.listening.url), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { balance?: string; error?: { code: string } } };
  };

  const fundedPeer = async (amount: string) => {
    const peer = peerHome();
    homes.push(peer.home);
    expect((await rest('/api/faucet', { address: peer.account.address, amount })).status).toBe(201);
    return peer;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bank-e2e-'));
    const cfg = loadBankConfig({
      DCP_EMU_DATA_DIR: dataDir,
      DCP_EMU_BANK_PORT: '0',
      DCP_EMU_LOG_LEVEL: 'warn',
    });
    bank = await startService(AppModule.forRoot(cfg), { name: 'bank', ...cfg });
    config = await configServer(bank.listening.url, bank.app.get<DcpTarget>(TELLER_TARGET));
  });

  afterAll(async () => {
    await new Promise((r) => config?.server.close(r));
    await bank?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('dcp-util 2.3.14 bank-utility balance shows the faucet-funded balance', async () => {
    const peer = await fundedPeer('25');
    const { out } = await runTool(BANK_UTILITY, ['balance'], peer.home, config.url);
    expect(out).toContain(`Account info for ${peer.account.address.toLowerCase()}`);
    expect(out).toMatch(/Balance: 25\n/);
    expect(out).not.toContain('Escrow count');

    // escrow shows up as the 4.x `escrow: {num, total}`
    const ledger = bank.app.get<BankLedger>(BANK_LEDGER);
    await ledger.hold.execute({
      account: peer.account.address,
      amount: dcc('4.5'),
      refs: { job: 'e2e-job' },
    });
    const held = await runTool(BANK_UTILITY, ['balance'], peer.home, config.url);
    expect(held.out).toMatch(/Balance: 20\.5\n\s+Escrow count: 1\n\s+Escrow total: 4\.5\n/);
  });

  it('bank-utility balance of an address the bank has never seen shows an empty account', async () => {
    const peer = peerHome();
    homes.push(peer.home);
    const { out } = await runTool(BANK_UTILITY, ['balance'], peer.home, config.url);
    expect(out).toContain(`Account info for ${peer.account.address.toLowerCase()}`);
    expect(out).toMatch(/Balance: 0\n/);
    expect((await rest(`/api/accounts/${peer.account.address}`)).status).toBe(404);
  });

  it('bank-utility transfer moves credits once; an overdraft prints "Not enough credits" and moves nothing', async () => {
    const peer = await fundedPeer('25');
    const target = Identity.random().address;
    const ok = await runTool(BANK_UTILITY, ['transfer', '7.5', target], peer.home, config.url);
    expect(ok.out).toContain('Transfer successful!');
    expect((await rest(`/api/accounts/${peer.account.address}`)).body.balance).toBe('17.5');
    expect((await rest(`/api/accounts/${target}`)).body.balance).toBe('7.5');

    const broke = await runTool(BANK_UTILITY, ['transfer', '1000', target], peer.home, config.url);
    expect(broke.out).toContain('Not enough credits');
    expect((await rest(`/api/accounts/${peer.account.address}`)).body.balance).toBe('17.5');
    expect((await rest(`/api/accounts/${target}`)).body.balance).toBe('7.5');
  });

  it('dcp-client 5.6.1 bin/dcp-bank transfer (transfer@1)', async () => {
    const peer = await fundedPeer('10');
    const target = Identity.random().address;
    const res = await runTool(DCP_BANK, ['transfer', '2.25', `--to=${target}`], peer.home, config.url);
    expect(res.code, res.out).toBe(0);
    expect((await rest(`/api/accounts/${peer.account.address}`)).body.balance).toBe('7.75');
    expect((await rest(`/api/accounts/${target}`)).body.balance).toBe('2.25');
  });
});
