import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';

/**
 * A small result storage, as dcp-client's setResultStorage() expects one: each POST
 * (form-urlencoded `content`, `element`, `contentType` + the job's params) is kept and answered
 * with the location it can be read back from (GET).
 */
function storageServer(): Promise<{
  server: Server;
  url: string;
  posts: Record<string, string>[];
  gets: string[];
}> {
  const posts: Record<string, string>[] = [];
  const gets: string[] = [];
  const stored = new Map<string, Record<string, string>>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const port = (server.address() as AddressInfo).port;
      if (req.method === 'POST' && req.url === '/results') {
        const fields = Object.fromEntries(new URLSearchParams(body));
        posts.push(fields);
        stored.set(String(fields.element), fields);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`http://127.0.0.1:${port}/results/${fields.element}`);
        return;
      }
      const m = /^\/results\/(\d+)$/.exec(req.url ?? '');
      const item = m ? stored.get(m[1] as string) : undefined;
      if (req.method === 'GET' && item) {
        gets.push(req.url as string);
        res.writeHead(200, { 'content-type': item.contentType ?? 'application/json' });
        res.end(item.content);
        return;
      }
      res.writeHead(404).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/results`,
        posts,
        gets,
      }),
    ),
  );
}

/** `job.setResultStorage(url, params)` of the unmodified dcp-client 5.6.1, computed by dcp-worker 3.3.19. */
describe('result storage (job.setResultStorage)', () => {
  const dataDir = tempDir('dcp-emu-sched-');
  let scheduler: Proc & { url: string; port: number };
  let evaluator: Proc & { port: number };
  let worker: Proc;
  let storage: Awaited<ReturnType<typeof storageServer>>;
  let home: string;

  beforeAll(async () => {
    storage = await storageServer();
    scheduler = await startScheduler(dataDir);
    evaluator = await startEvaluator();
    // the worker must be allowed to send results to the storage's origin, as on DCP
    worker = await startDcpWorker(scheduler.url, evaluator.port, 2, [
      '--allowedOrigins',
      new URL(storage.url).origin,
    ]);
    home = peerHome('dcp-emu-client-');
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
    await evaluator?.stop();
    await scheduler?.stop();
    storage?.server.close();
    cleanup(dataDir, home);
  });

  it('workers POST each result there; the client reads the values back from the storage', async () => {
    const script = writePeerFile(
      home,
      'client.cjs',
      readFileSync(join(__dirname, 'client-script.cjs'), 'utf8'),
    );
    const client = runClient(
      home,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5], STORAGE_URL: storage.url },
      ['resultstorage'],
    );
    try {
      await client.waitFor(/^OUT \{"(done|failed|fatal)"/m, 150_000);
    } finally {
      await client.stop('SIGKILL');
    }
    const out = client.outputs();
    const done = out.find((o) => 'done' in o) as { done: unknown[]; resultEvents: number[] } | undefined;
    const values = [1, 2, 3].map((x) => ({ x, square: x * x }));
    expect(done?.done, client.out.slice(-2000)).toEqual(values);
    expect([...(done?.resultEvents ?? [])].sort()).toEqual([1, 2, 3]);

    // one POST per slice, as dcp-client's workers send them: the params, the element, the content
    const posts = [...storage.posts].sort((a, b) => Number(a.element) - Number(b.element));
    expect(posts).toEqual(
      values.map((v, i) => ({
        token: 'secret-token',
        element: String(i + 1),
        contentType: 'application/json',
        content: JSON.stringify(v),
      })),
    );
    // the client fetched each value from the location the storage answered
    expect([...new Set(storage.gets)].sort()).toEqual(['/results/1', '/results/2', '/results/3']);

    // the scheduler keeps the storage's answer (the location), not the value
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    const { results } = await getJson<{ results: { sliceNumber: number; value: unknown }[] }>(
      `${scheduler.url}api/jobs/${id}/results`,
    );
    expect(results.map((r) => r.value).sort()).toEqual([1, 2, 3].map((n) => `${storage.url}/${n}`));
  }, 240_000);
});
