import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluatorProcess, LineClient, runSlice, spawnEvaluator } from './test-support';

const JOB = {
  address: '0x1111111111111111111111111111111111111111',
  arguments: [],
  modulePath: [],
  requirePath: [],
  public: { name: 'modules job' },
  useStrict: false,
  worktime: { name: 'map-basic', version: '1.0.0' },
};

async function ready(c: LineClient): Promise<void> {
  c.send({ request: 'describe' });
  await c.request('describe');
  c.send({ request: 'applyRequirements', requirements: { environment: {} }, worktime: 'map-basic' });
  await c.request('applyRequirementsDone');
}

/* `job.requires()` modules in the sandbox: module groups answered by a hand-written supervisor. */
describe('evaluator modules (dependency / moduleGroup)', () => {
  let ev: EvaluatorProcess;
  beforeAll(async () => {
    ev = await spawnEvaluator();
  });
  afterAll(async () => {
    await ev?.stop();
  });

  it('loads plain CommonJS files, asking for their nested and cross-package requires first', async () => {
    const c = await LineClient.connect(ev.port);
    await ready(c);
    const from = c.lines.length;
    c.send({
      request: 'assign',
      job: {
        ...JOB,
        dependencies: ['pkg/main'],
        workFunction: "(x) => { progress(); return require('pkg/main').f(x); }",
      },
      sandboxConfig: { progressThrottle: 0 },
    });
    const first = await c.request('dependency', 30_000, from);
    expect(first.data).toEqual(['pkg/main']);
    const next = c.lines.length;
    c.send({
      request: 'moduleGroup',
      id: first.id,
      data: {
        pkg: {
          main: "const h = require('./lib/h');\nconst o = require('other/o.js');\nexports.f = (x) => h(x) + o.k; // end",
        },
      },
    });
    const second = await c.request('dependency', 30_000, next);
    expect(second.data).toEqual(['pkg/lib/h', 'other/o']);
    c.send({
      request: 'moduleGroup',
      id: second.id,
      data: {
        pkg: { 'lib/h': 'module.exports = (x) => x * 2;' },
        other: { o: 'module.declare([], function (require, exports) { exports.k = 1000; });' },
      },
    });
    await c.request('assigned', 30_000, from);
    expect(await runSlice(c, 21)).toMatchObject({ request: 'complete', result: 1042 });
    c.close();
  });

  it('rejects the assignment with the SyntaxError of a module that does not load', async () => {
    const c = await LineClient.connect(ev.port);
    await ready(c);
    const from = c.lines.length;
    c.send({
      request: 'assign',
      job: { ...JOB, dependencies: ['bad/m'], workFunction: '(x) => x' },
      sandboxConfig: {},
    });
    const dep = await c.request('dependency', 30_000, from);
    c.send({ request: 'moduleGroup', id: dep.id, data: { bad: { m: 'exports.f = (x) => x +;' } } });
    const rejected = await c.request('reject', 30_000, from);
    expect(String(rejected.error)).toMatch(/SyntaxError/);
    c.close();
  });

  it('a module factory that throws fails the slice (workError) and loads again on the next require', async () => {
    const c = await LineClient.connect(ev.port);
    await ready(c);
    const from = c.lines.length;
    c.send({
      request: 'assign',
      job: {
        ...JOB,
        dependencies: ['p/flaky'],
        workFunction: "(x) => { progress(); return require('p/flaky').v + x; }",
      },
      sandboxConfig: { progressThrottle: 0 },
    });
    const dep = await c.request('dependency', 30_000, from);
    c.send({
      request: 'moduleGroup',
      id: dep.id,
      data: {
        p: {
          flaky:
            'globalThis.__n = (globalThis.__n || 0) + 1;\nif (globalThis.__n === 1) throw new RangeError("first load fails");\nexports.v = 10;',
        },
      },
    });
    await c.request('assigned', 30_000, from);
    const failed = await runSlice(c, 1);
    expect(failed).toMatchObject({ request: 'workError', error: { name: 'RangeError' } });
    expect(await runSlice(c, 2)).toMatchObject({ request: 'complete', result: 12 });
    c.close();
  });
});
