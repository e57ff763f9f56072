import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DcpErrorCode } from '@dcp-emu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedFetch, OriginPolicy, refusalMessage, stackServices } from './artifacts';

/* Real HTTP servers on loopback: one stands for a stack service, one for a developer's data server. */
let service: Server;
let data: Server;
let servicePort = 0;
let dataPort = 0;
let serviceHits = 0;

beforeAll(async () => {
  service = createServer((_req, res) => {
    serviceHits++;
    res.end('service');
  });
  data = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://localhost:${servicePort}/api/jobs` });
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end('{"value":"foo"}');
  });
  for (const s of [service, data]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servicePort = (service.address() as AddressInfo).port;
  dataPort = (data.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of [service, data]) await new Promise<void>((r) => s.close(() => r()));
});

const policy = (opts: { strict?: boolean; any?: string[] } = {}) =>
  new OriginPolicy(`http://127.0.0.1:${servicePort}`, opts.any ?? [], {
    allowLoopback: !opts.strict,
    denied: stackServices({
      schedulerUrl: `http://127.0.0.1:${servicePort}/`,
      extra: [{ name: 'evaluator', url: '127.0.0.1:7434' }],
    }),
  });

describe('OriginPolicy', () => {
  it("never lets a work function reach the stack's services, under any spelling of the host", () => {
    const p = policy({ any: [`http://127.0.0.1:${servicePort}`] });
    for (const host of [
      '127.0.0.1',
      'localhost',
      '127.0.0.2',
      '[::1]',
      '0.0.0.0',
      'LOCALHOST',
      'x.localhost',
    ]) {
      expect(p.refusal(`http://${host}:${servicePort}/api/schedmsg`, 'workerFetch')).toMatchObject({
        service: 'scheduler',
      });
    }
    expect(p.refusal('http://localhost:7434/', 'workerFetch')).toMatchObject({ service: 'evaluator' });
    // a service bound to 0.0.0.0 is also reachable through this machine's own addresses
    const lan = new OriginPolicy(undefined, [], {
      localAddresses: ['10.1.2.3'],
      denied: [{ name: 'bank', url: 'http://0.0.0.0:7431/' }],
    });
    expect(lan.refusal('http://10.1.2.3:7431/api/faucet', 'workerFetch')).toMatchObject({ service: 'bank' });
    expect(lan.refusal('http://10.1.2.4:7431/', 'workerFetch')).toEqual({ origin: 'http://10.1.2.4:7431' });
    // a name that resolves to a local address is checked by its addresses too
    expect(p.refusal(`http://sneaky.example:${servicePort}/`, 'workerFetch', ['127.0.0.1'])).toMatchObject({
      service: 'scheduler',
    });
  });

  it('serves job artifacts from the scheduler, but not its REST or admin routes', () => {
    const p = policy({ strict: true });
    expect(p.refusal(`http://127.0.0.1:${servicePort}/modules/a/b.js`, 'fetchModules')).toBeUndefined();
    expect(p.refusal(`http://127.0.0.1:${servicePort}/data/1`, 'fetchData')).toBeUndefined();
    expect(p.refusal(`http://127.0.0.1:${servicePort}/api/jobs`, 'fetchData')).toMatchObject({
      service: 'scheduler',
    });
    expect(p.refusal('http://127.0.0.1:7434/', 'fetchData')).toMatchObject({ service: 'evaluator' });
  });

  it('allows other loopback origins by default, refuses them when strict unless -a names them', () => {
    expect(policy().refusal(`http://localhost:${dataPort}/slice-1.json`, 'fetchData')).toBeUndefined();
    expect(policy().refusal(`http://localhost:${dataPort}/x`, 'workerFetch')).toBeUndefined();
    expect(policy().refusal('http://example.com/x', 'workerFetch')).toEqual({ origin: 'http://example.com' });
    const strict = policy({ strict: true });
    expect(strict.refusal(`http://localhost:${dataPort}/x`, 'workerFetch')).toEqual({
      origin: `http://localhost:${dataPort}`,
    });
    const allowed = policy({ strict: true, any: [`http://localhost:${dataPort}`] });
    expect(allowed.refusal(`http://localhost:${dataPort}/x`, 'workerFetch')).toBeUndefined();
    expect(refusalMessage({ origin: 'http://example.com' }, 'workerFetch')).toMatch(
      /dcp-emu up --allow-origin http:\/\/example\.com/,
    );
  });
});

describe('guardedFetch', () => {
  it('fetches an allowed origin and refuses a redirect into a stack service without touching it', async () => {
    const p = policy();
    const ok = await guardedFetch(p, `http://127.0.0.1:${dataPort}/d`, 'workerFetch', {}, fetch);
    expect(await ok.json()).toEqual({ value: 'foo' });
    const before = serviceHits;
    await expect(
      guardedFetch(p, `http://127.0.0.1:${dataPort}/redirect`, 'workerFetch', {}, fetch),
    ).rejects.toMatchObject({ code: DcpErrorCode.EPERM_ORIGIN, message: expect.stringMatching(/scheduler/) });
    await expect(
      guardedFetch(
        p,
        `http://127.0.0.1:${servicePort}/api/schedmsg`,
        'workerFetch',
        { method: 'POST' },
        fetch,
      ),
    ).rejects.toMatchObject({ code: DcpErrorCode.EPERM_ORIGIN });
    expect(serviceHits).toBe(before);
  });
});
