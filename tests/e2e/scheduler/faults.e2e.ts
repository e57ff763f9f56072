import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Proc, ROOT } from '@dcp-emu/testing';
import { type Emulator, type Fault, startEmulator } from '@dcp-emu/testing-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const CLIENT = join(__dirname, 'faults-client.cjs');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const squares = (n: number) => Array.from({ length: n }, (_, i) => (i + 1) * (i + 1));

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ workers: 2, accounts: 2 });
});
afterAll(async () => {
  await emu?.stop();
});
// every test starts with no fault, whatever the one before left
afterEach(async () => {
  await emu?.faults.clear();
});

/** A dcp-client job of `slices` slices, each busy `sliceMs`, as its own process. */
function job(slices: number, sliceMs: number): Proc {
  return new Proc(
    spawn(process.execPath, [CLIENT, String(slices), String(sliceMs)], {
      cwd: ROOT,
      env: { ...process.env, ...emu.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

type Out = {
  t: number;
  exec?: boolean;
  accepted?: string;
  result?: number;
  value?: unknown;
  done?: number[];
  error?: { code?: string };
};
const outs = (p: Proc) => p.outputs() as Out[];
async function finished(p: Proc): Promise<Out[]> {
  await p.waitFor(/OUT \{[^\n]*"(done|error)"/, 240_000);
  await p.exited;
  return outs(p);
}
async function accepted(p: Proc): Promise<string> {
  const m = await p.waitFor(/OUT \{[^\n]*"accepted":"([^"]+)"/, 120_000);
  return m[1] as string;
}
const doneOf = (o: Out[]) => o.find((x) => x.done)?.done;
const errorOf = (o: Out[]) => o.find((x) => x.error)?.error;
const fault = async (id: string): Promise<Fault | undefined> =>
  (await emu.faults.list()).find((f) => f.id === id);
const workerRestarts = () =>
  (
    JSON.parse(readFileSync(join(emu.dataDir, 'stack.json'), 'utf8')) as {
      processes?: { worker?: { restarts: number } };
    }
  ).processes?.worker?.restarts ?? 0;
const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
  const res = await fetch(new URL(path, emu.schedulerUrl), init);
  return { status: res.status, body: (await res.json()) as T };
};
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('fault injection, observed from real dcp-client jobs through the stack', () => {
  it('crashWorker (kill): the worker gets SchedMsg kill after 2 results, exits and is restarted; the job completes', async () => {
    const restarts = workerRestarts();
    const f = await emu.faults.add({ kind: 'crashWorker', afterSlices: 2 });
    const o = await finished(job(8, 300));
    expect(doneOf(o), JSON.stringify(o)).toEqual(squares(8));
    expect(await fault(f.id)).toMatchObject({ fired: 1, spent: true });
    expect(workerRestarts()).toBe(restarts + 1);
  });

  it('crashWorker (drop): only its connections are closed, its slices re-queued; it reconnects and the job completes', async () => {
    const restarts = workerRestarts();
    const f = await emu.faults.add({ kind: 'crashWorker', afterSlices: 1, how: 'drop' });
    const o = await finished(job(6, 300));
    expect(doneOf(o)).toEqual(squares(6));
    expect(await fault(f.id)).toMatchObject({ fired: 1, spent: true });
    expect(workerRestarts()).toBe(restarts);
  });

  it('dropResult (twice): the dropped slices are computed again; every value arrives once', async () => {
    const f = await emu.faults.add({ kind: 'dropResult', times: 2 });
    const p = job(5, 0);
    const id = await accepted(p);
    const o = await finished(p);
    expect(doneOf(o)).toEqual(squares(5));
    expect(await fault(f.id)).toMatchObject({ fired: 2, spent: true });
    // two slices were handed out again after their results were dropped
    const slices = await api<{ slices: { status: string; attempts: number }[] }>(`api/jobs/${id}/slices`);
    expect(slices.body.slices.filter((s) => s.status === 'done')).toHaveLength(5);
    expect(slices.body.slices.reduce((n, s) => n + s.attempts, 0)).toBeGreaterThanOrEqual(7);
  });

  it('delayResult: results reach the client no sooner than the delay', async () => {
    await emu.faults.add({ kind: 'delayResult', ms: 2_000, times: 'always' });
    const p = job(2, 0);
    await accepted(p);
    const o = await finished(p);
    expect(doneOf(o)).toEqual(squares(2));
    const start = o.find((x) => x.exec)?.t as number;
    const firstResult = Math.min(...o.filter((x) => x.result).map((x) => x.t));
    expect(firstResult - start).toBeGreaterThanOrEqual(2_000);
  });

  it('corruptResult: the client gets the injected value for one slice, the right ones for the rest', async () => {
    const f = await emu.faults.add({ kind: 'corruptResult', value: { corrupted: true } });
    const o = await finished(job(4, 0));
    const done = doneOf(o) as unknown[];
    expect(done.filter((v) => JSON.stringify(v) === '{"corrupted":true}')).toHaveLength(1);
    expect(done.filter((v, i) => v === (i + 1) * (i + 1))).toHaveLength(3);
    expect(await fault(f.id)).toMatchObject({ fired: 1 });
  });

  it('delayTask: the first slices are handed out no sooner than the delay', async () => {
    const f = await emu.faults.add({ kind: 'delayTask', ms: 2_500 });
    const p = job(2, 0);
    await accepted(p);
    const o = await finished(p);
    expect(doneOf(o)).toEqual(squares(2));
    const start = o.find((x) => x.exec)?.t as number;
    expect(Math.min(...o.filter((x) => x.result).map((x) => x.t)) - start).toBeGreaterThanOrEqual(2_500);
    expect(await fault(f.id)).toMatchObject({ fired: 1, spent: true });
  });

  it('refuseTask: no slice is handed out while it is set (no work, or an error); cleared, the job completes', async () => {
    const noWork = await emu.faults.add({ kind: 'refuseTask', times: 'always' });
    const p = job(3, 0);
    await accepted(p);
    // the worker asks about once a second: let it be refused a few times
    await until(
      'three refused task requests',
      async () => ((await fault(noWork.id))?.fired ?? 0) >= 3 || undefined,
    );
    expect(outs(p).filter((x) => x.result)).toEqual([]);
    await emu.faults.clear();
    const errors = await emu.faults.add({ kind: 'refuseTask', answer: 'error', times: 2 });
    const o = await finished(p);
    expect(doneOf(o)).toEqual(squares(3));
    expect(await fault(errors.id)).toMatchObject({ fired: 2, spent: true });
  });

  it('bankDown: a submit fails with ENOBANK; a running job keeps computing, its payments owed until the bank is back', async () => {
    const down = await emu.faults.add({ kind: 'bankDown' });
    const refused = await finished(job(1, 0));
    expect(errorOf(refused)?.code).toBe('ENOBANK');
    await emu.faults.clear(down.id);

    const p = job(6, 200);
    const id = await accepted(p);
    const outage = await emu.faults.add({ kind: 'bankDown', durationMs: 60_000 });
    const o = await finished(p);
    expect(doneOf(o)).toEqual(squares(6));
    type Escrow = { escrow: { owed: string; paid: string } };
    const during = await api<Escrow>(`api/jobs/${id}/escrow`);
    expect(Number(during.body.escrow.owed)).toBeGreaterThan(0);
    expect((await fault(outage.id))?.fired).toBe(1);
    // the bank is back: what was owed is paid
    await emu.faults.clear(outage.id);
    const after = await until('the owed payments settled', async () => {
      const e = (await api<Escrow>(`api/jobs/${id}/escrow`)).body.escrow;
      return Number(e.owed) === 0 ? e : undefined;
    });
    expect(Number(after.paid)).toBeGreaterThan(0);
  });

  it('disconnectClient: the client connection drops after the first result; dcp-client resumes and gets every result', async () => {
    const p = job(6, 300);
    const id = await accepted(p);
    const f = await emu.faults.add({ kind: 'disconnectClient', job: id });
    const o = await finished(p);
    expect(doneOf(o)).toEqual(squares(6));
    expect(await fault(f.id)).toMatchObject({ fired: 1, spent: true });
  });

  it('clear; the REST surface: admin token for changes, a read-only list, invalid faults refused', async () => {
    await emu.faults.add({ kind: 'dropResult', job: 'no-such-job', times: 'always' });
    await emu.faults.add({ kind: 'bankDown', durationMs: 3_600_000 });
    const open = await api<{ faults: Fault[] }>('api/faults');
    expect(open.body.faults.map((f) => f.kind)).toEqual(['dropResult', 'bankDown']);
    expect((await api('admin/faults')).status).toBe(401);
    const post = (body: unknown, token = emu.adminToken) =>
      api<{ error?: { code: string } }>('admin/faults', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ kind: 'dropResult' }, 'wrong')).status).toBe(401);
    const bad = await post({ kind: 'delayResult' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('EINVAL');
    const gone = await api<{ error?: { code: string } }>('admin/faults/f999', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${emu.adminToken}` },
    });
    expect(gone.status).toBe(404);
    expect(await emu.faults.clear()).toBe(2);
    expect(await emu.faults.list()).toEqual([]);
    // the bank works again: a job deploys and completes
    expect(doneOf(await finished(job(2, 0)))).toEqual(squares(2));
  });

  it('dcp-emu fault add|list|clear and dcp-emu status against the stack', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) =>
        execFile(process.execPath, [CLI, ...args, '--data-dir', emu.dataDir], { cwd: ROOT }, (e, out, err) =>
          resolve({ code: e ? Number((e as { code?: unknown }).code ?? 1) : 0, out, err }),
        ),
      );
    const added = await cli('fault', 'add', 'delayTask', '--ms', '100', '--times', 'always', '--seed', '3');
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(/added f\d+\s+delayTask\s+active/);
    expect((await cli('fault', 'list')).out).toMatch(
      /delayTask\s+active\s+fired 0\s+ms=100 times=always seed=3/,
    );
    const json = JSON.parse((await cli('fault', 'list', '--json')).out) as Fault[];
    expect(json).toMatchObject([{ kind: 'delayTask', ms: 100, times: 'always', seed: 3 }]);
    const status = await cli('status');
    expect(status.out).toMatch(/faults \(dcp-emu fault clear\):\n\s+f\d+\s+delayTask/);
    expect((await cli('fault', 'clear')).out).toBe('cleared 1 fault\n');
    expect((await cli('fault', 'add', 'delayTask')).code).toBe(2);
  });
});
