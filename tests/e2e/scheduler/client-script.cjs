/*
 * A dcp-client program for the scheduler e2e tests, run as an unprivileged user with its own HOME.
 * It uses only the documented Compute API of the unmodified dcp-client given by DCP_CLIENT_DIR, and
 * prints `OUT {json}` lines the test reads. Mode = argv[2].
 */
const { init } = require(process.env.DCP_CLIENT_DIR);
const out = (o) => console.log(`OUT ${JSON.stringify(o)}`);
const mode = process.argv[2];

init()
  .then(async () => {
    const compute = require('dcp/compute');
    let job;
    switch (mode) {
      case 'range': {
        // a range with arguments; console events from the work function
        job = compute.for(
          1,
          9,
          4,
          (x, a, b) => {
            progress(1);
            console.log('slice', x);
            return x * a + b;
          },
          [10, 1],
        );
        job.on('console', (ev) => out({ console: ev.message, level: ev.level, slice: ev.sliceNumber }));
        break;
      }
      case 'multirange': {
        // dcp-client's MultiRangeObject: one slice per tuple, the right-most range moving fastest
        job = compute.for(
          {
            ranges: [
              { start: 1, end: 2 },
              { start: 10, end: 30, step: 10 },
            ],
          },
          ([a, b]) => {
            progress(1);
            return a * b;
          },
        );
        break;
      }
      case 'array': {
        job = compute.for([1, 2, 3, 4], (x) => {
          progress(1);
          return x * 2;
        });
        break;
      }
      case 'errors': {
        // a work function that throws on one slice: the client gets an error event
        job = compute.for([1, 2, 3], (x) => {
          progress(1);
          if (x === 2) throw new RangeError(`bad slice ${x}`);
          return x;
        });
        job.on('error', (ev) => out({ error: ev.message, slice: ev.sliceNumber }));
        break;
      }
      case 'slow': {
        // slow slices, to kill the scheduler or a worker mid-job; custom events through work.emit
        const n = Number(process.env.SLICES || 12);
        const ms = Number(process.env.SLICE_MS || 400);
        job = compute.for(
          Array.from({ length: n }, (_, i) => i + 1),
          async (x, ms) => {
            progress(0);
            await new Promise((r) => setTimeout(r, ms));
            progress(1);
            return x * x;
          },
          [ms],
        );
        break;
      }
      case 'cancel': {
        job = compute.for([1, 2, 3, 4, 5, 6], async (x) => {
          progress(0);
          await new Promise((r) => setTimeout(r, 60000));
          progress(1);
          return x;
        });
        job.on('accepted', () => {
          out({ accepted: job.id });
          setTimeout(() => job.cancel('enough').then((r) => out({ cancelReply: r })), 500);
        });
        job.on('cancel', (ev) => out({ cancelEvent: ev.reason }));
        break;
      }
      case 'bench': {
        // trivial slices; prints deploy → first result latency and throughput
        const n = Number(process.env.SLICES || 1000);
        job = compute.for(1, n, (x) => {
          progress(1);
          return x + 1;
        });
        const t = { start: Date.now() };
        job.on('accepted', () => {
          t.accepted = Date.now();
        });
        job.on('result', () => {
          t.first ??= Date.now();
          t.last = Date.now();
        });
        job.on('complete', () => out({ bench: { ...t, slices: n } }));
        break;
      }
      case 'modules': {
        // publish a package to the package manager, then require one of its modules in the work function
        const fs = require('node:fs');
        const path = require('node:path');
        const file = path.join(process.cwd(), 'triple.js');
        fs.writeFileSync(
          file,
          'module.declare([], function (require, exports) { exports.triple = (x) => x * 3; });',
        );
        await require('dcp/publish').publish({
          name: 'dcp-emu-test-pkg',
          version: '1.0.0',
          files: { [file]: 'triple.js' },
        });
        job = compute.for([1, 2, 3], (x) => {
          progress(1);
          return require('dcp-emu-test-pkg/triple').triple(x);
        });
        job.requires('dcp-emu-test-pkg/triple');
        break;
      }
      case 'localexec': {
        // job.localExec(): the client's own worker (dcp-client's node evaluator) computes the slices.
        // A plain call: in 5.6.1 its supervisor signs with identity.get(), which needs an identity
        // session — `dcp-emu run` preloads packages/cli/preload/dcp-login.cjs, which logs in after init().
        job = compute.for(
          [1, 2, 3, 4],
          (x, a) => {
            progress(1);
            return x * a;
          },
          [10],
        );
        break;
      }
      case 'resultstorage': {
        // job.setResultStorage(url, params): workers POST each result to STORAGE_URL
        job = compute.for([1, 2, 3], (x) => {
          progress(1);
          return { x, square: x * x };
        });
        job.setResultStorage(new URL(process.env.STORAGE_URL), { token: 'secret-token' });
        break;
      }
      case 'reconnect': {
        // a second process, for the job JOB_ID another one deployed: what dcp-client offers
        const id = process.env.JOB_ID;
        try {
          out({ resumed: (await compute.resume(id)).id });
        } catch (error) {
          out({ resumeError: error.message });
        }
        try {
          out({ info: await compute.getJobInfo(id) });
        } catch (error) {
          out({ infoError: error.message });
        }
        try {
          const handle = new compute.Job((x) => x);
          handle.id = id;
          await handle.results.fetch();
          out({ fetched: handle.results.values() });
        } catch (error) {
          out({ fetchError: error.message });
        }
        out({ done: [] });
        process.exit(0);
        return;
      }
      default:
        throw new Error(`unknown mode ${mode}`);
    }
    const results = [];
    job.on('result', (ev) => {
      results.push(ev.sliceNumber);
      out({ result: ev.sliceNumber });
    });
    job.on('accepted', () => out({ accepted: job.id }));
    try {
      const r = mode === 'localexec' ? await job.localExec(1) : await job.exec(compute.marketRate);
      out({
        done: Array.from(r).map((v) => (v instanceof Error ? { error: v.message } : v)),
        resultEvents: results,
      });
    } catch (error) {
      out({ failed: error.message, code: error.code });
    }
  })
  .catch((e) => {
    out({ fatal: String(e?.stack || e) });
    process.exit(2);
  });
