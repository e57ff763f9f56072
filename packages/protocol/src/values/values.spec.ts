import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataUri, encodeConfig, jobValue, kvinFor, kvinVersionOf, parseKvin, unmarshalKvin } from '../node';
import { DcpClientPeer } from '../test-support/peer';

describe('KVIN per generation', () => {
  it('serializes v9 for 5.x and v8 for 4.x; parseKvin reads both', () => {
    const value = { a: [1, 'two', null], b: new Uint8Array([1, 2, 255]), c: undefined, d: new Date(0) };
    const v9 = kvinFor(5).serialize(value);
    const v8 = kvinFor(4).serialize(value);
    expect(kvinVersionOf(v9)).toBe('v9');
    expect(kvinVersionOf(v8)).toBe('v8');
    for (const text of [v9, v8]) {
      const back = parseKvin(text) as typeof value;
      expect(back.a).toEqual([1, 'two', null]);
      expect(Array.from(back.b)).toEqual([1, 2, 255]);
      expect('c' in back && back.c === undefined).toBe(true);
      expect(back.d.getTime()).toBe(0);
    }
  });

  it('unmarshals without touching the marshaled tree (it may be part of a signed payload)', () => {
    // what dcp-client 5.6.1 sends as marshaledArguments: a list of job values with a shared reference
    const shared = { string: '{"_serializeVerId":"v9","what":1500}', method: 'kvin' };
    const marshaled = kvinFor(5).marshal([shared, shared, 'x']);
    const before = JSON.stringify(marshaled);
    expect(unmarshalKvin(marshaled)).toEqual([shared, shared, 'x']);
    expect(JSON.stringify(marshaled)).toBe(before);
  });

  it('encodes configs with URL objects: DcpURL in v9, URL (ctr 18) in v8', () => {
    const config = {
      scheduler: { services: { jobSubmit: { location: new URL('http://h:1/job-submit/') } } },
    };
    const five = JSON.parse(encodeConfig(config, 5));
    const four = JSON.parse(encodeConfig(config, 4));
    const loc = (c: { what: { ps: Record<string, { ps: Record<string, unknown> }> } }) =>
      (c.what.ps.scheduler!.ps.services as { ps: { jobSubmit: { ps: { location: unknown } } } }).ps.jobSubmit
        .ps.location;
    expect(five._serializeVerId).toBe('v9');
    expect(loc(five)).toEqual({ ctr: 'dcpUrl$$DcpURL', ps: {}, arg: 'http://h:1/job-submit/' });
    expect(four._serializeVerId).toBe('v8');
    expect(loc(four)).toEqual({ ctr: 18, ps: {}, arg: 'http://h:1/job-submit/' });
    const back = parseKvin(encodeConfig(config, 5)) as typeof config;
    expect(back.scheduler.services.jobSubmit.location).toBeInstanceOf(URL);
  });
});

describe('job values and data: URIs', () => {
  it('job values: JSON for strings and booleans, KVIN otherwise', () => {
    expect(jobValue.encode('hi')).toEqual({ string: '"hi"', method: 'json', MIMEType: 'application/json' });
    expect(jobValue.encode(true).method).toBe('json');
    const n = jobValue.encode(42);
    expect(n).toEqual({
      string: '{"_serializeVerId":"v9","what":42}',
      method: 'kvin',
      MIMEType: 'application/x-kvin',
    });
    expect(kvinVersionOf(jobValue.encode({ x: 1 }, 4).string)).toBe('v8');
    for (const v of ['hi', true, 42, { x: [1, { y: 'z' }] }, [1, 2, 3]])
      expect(jobValue.decode(jobValue.encode(v))).toEqual(v);
    expect(() => jobValue.decode({ string: '{', method: 'json' })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => jobValue.decode({ method: 'yaml' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('data: URIs use encodeURI (never base64) and decode back', () => {
    const value = { text: 'a,b:c;d/e?f#g%h é', n: [1.5, -2] };
    const uri = dataUri.encode(value);
    expect(uri.startsWith('data:application/x-kvin,')).toBe(true);
    expect(uri).not.toContain('base64');
    expect(uri).toContain(','); // commas stay (encodeURIComponent would give %2C)
    expect(decodeURI(uri.slice('data:application/x-kvin,'.length))).toBe(kvinFor(5).serialize(value));
    expect(dataUri.decode(uri)).toEqual(value);
    expect(
      kvinVersionOf(decodeURI(dataUri.encode(value, { generation: 4 }).split(',').slice(1).join(','))),
    ).toBe('v8');
    expect(dataUri.decode(dataUri.encode(value, { type: 'application/json' }))).toEqual(value);
    expect(dataUri.decode(dataUri.encode('plain, text', { type: 'text/plain' }))).toBe('plain, text');
    expect(dataUri.decode(`data:application/json;base64,${btoa('{"b":64}')}`)).toEqual({ b: 64 });
    expect(() => dataUri.decode('http://x/')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

/** The real dcp-client decodes what we encode: config locations are URLs, data: URIs give the values. */
describe.each([5, 4] as const)('dcp-client %s.x reads our config and data: URIs', (generation) => {
  let server: ReturnType<typeof createServer>;
  let base: string;
  const requested: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requested.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/etc/dcp-config.kvin') {
        res.statusCode = 404;
        res.end();
        return;
      }
      const gen = url.searchParams.get('ver') === '2.0.0' ? 4 : 5;
      const at = (p: string) => new URL(`${gen === 4 ? '/v4' : ''}${p}`, base);
      const config = {
        scheduler: {
          location: new URL(base),
          compatibility: { minimum: { dcp: '^5.0.0' } },
          services: {
            jobSubmit: { location: at('/job-submit/') },
            eventRouter: { location: at('/event-router/') },
            resultSubmitter: { location: at('/result-submitter/') },
            taskDistributor: { location: at('/task-distributor/') },
          },
        },
        bank: { location: at('/bank-teller/'), services: { bankTeller: { location: at('/bank-teller/') } } },
        job: { maxDeployTime: 60, uploadSlicesTarget: 1e6 },
      };
      res.setHeader('content-type', 'application/x-kvin');
      res.end(encodeConfig(config, gen));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('init() downloads the config; every location is a URL; data: URIs decode', async () => {
    const values = [{ a: 'b,c:d', n: [1, 2] }, 'text, with: punctuation', 42];
    const uris = [
      dataUri.encode(values[0], { generation }),
      dataUri.encode(values[1], { type: 'text/plain' }),
      dataUri.encode(values[2], { type: 'application/json' }),
    ];
    const peer = await DcpClientPeer.start(generation, 'config', base, {
      PEER_DATA_URIS: JSON.stringify(uris),
    });
    try {
      const report = await peer.waitFor((m) => m.event === 'config', 30_000);
      expect(requested).toContain(`/etc/dcp-config.kvin?ver=${generation === 5 ? '2.1.0' : '2.0.0'}`);
      const services = report.services as Record<
        string,
        { href: string; isURL: boolean; instanceOfURL: boolean }
      >;
      expect(Object.keys(services).sort()).toEqual([
        'eventRouter',
        'jobSubmit',
        'resultSubmitter',
        'taskDistributor',
      ]);
      for (const s of Object.values(services)) expect(s).toMatchObject({ isURL: true, instanceOfURL: true });
      expect(services.jobSubmit!.href).toBe(`${base}${generation === 4 ? 'v4/' : ''}job-submit/`);
      expect(report.bankTeller).toMatchObject({ isURL: true });
      expect(report.job).toMatchObject({ maxDeployTime: 60, uploadSlicesTarget: 1e6 });
      expect(report.decoded).toEqual(values.map((value) => ({ ok: true, value })));
    } finally {
      await peer.stop();
    }
  });
});
