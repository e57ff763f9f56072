/*
 * Hostile jobs for the security e2e suite: an unmodified dcp-client program, run as an unprivileged
 * user with its own HOME, that deploys one job per mode and prints `OUT {json}` lines. Mode = argv[2].
 */
const { init } = require(process.env.DCP_CLIENT_DIR);
const fs = require('node:fs');
const out = (o) => console.log(`OUT ${JSON.stringify(o)}`);
const mode = process.argv[2];

init()
  .then(async () => {
    const compute = require('dcp/compute');
    let job;
    switch (mode) {
      case 'fetch': {
        // fetch/POST every target; report what the work function got back
        const targets = JSON.parse(process.env.TARGETS);
        job = compute.for(
          [1],
          async (_x, targets) => {
            progress(0);
            const seen = [];
            for (const t of targets) {
              try {
                const init = { method: t.method };
                if (t.method === 'POST') {
                  init.body = JSON.stringify({ command: 'kill', payload: {}, broadcast: true });
                  init.headers = { 'content-type': 'application/json' };
                }
                const res = await fetch(t.url, init);
                seen.push({
                  url: t.url,
                  method: t.method,
                  status: res.status,
                  body: (await res.text()).slice(0, 40),
                });
              } catch (e) {
                seen.push({ url: t.url, method: t.method, error: String(e?.message) });
              }
            }
            progress(1);
            return seen;
          },
          [targets],
        );
        break;
      }
      case 'wasm': {
        // many memories, every page touched: 4 GiB if nothing stopped it
        job = compute.for([1], () => {
          progress(0);
          const keep = [];
          for (let i = 0; i < 64; i++) {
            const m = new WebAssembly.Memory({ initial: 1024 });
            new Uint8Array(m.buffer).fill(7);
            keep.push(m);
            progress();
          }
          return keep.length;
        });
        job.on('error', (ev) => out({ error: ev.message, code: ev.code }));
        break;
      }
      case 'callsite': {
        // look for the sandbox prelude's own functions through CallSites, prepareStackTrace and fn.caller
        job = compute.for([1], async function work() {
          progress(0);
          const leaks = [];
          Error.prepareStackTrace = (_e, sites) => {
            for (const s of sites) {
              const f = s.getFunction();
              if (typeof f === 'function' && !/^(work|probe|timer|prepare)/.test(f.name))
                leaks.push(`fn ${f.name}`);
              const t = s.getThis();
              if (t && t !== globalThis) leaks.push(`this ${Object.keys(t).slice(0, 4)}`);
            }
            return 'trace';
          };
          const probe = () => new Error('x').stack;
          probe();
          await new Promise((resolve) =>
            setTimeout(function timer() {
              probe();
              if (timer.caller) leaks.push(`caller ${timer.caller.name}`);
              resolve();
            }, 1),
          );
          progress(1);
          return leaks;
        });
        break;
      }
      case 'spin': {
        // a runaway loop; the job is cancelled once the test creates the file `cancel-now`
        job = compute.for([1, 2], () => {
          progress(0);
          for (;;) {}
        });
        job.on('accepted', () => {
          const timer = setInterval(() => {
            if (!fs.existsSync('cancel-now')) return;
            clearInterval(timer);
            job.cancel('stop spinning').then(
              (r) => out({ cancelled: true, reply: r }),
              (e) => out({ cancelled: false, error: String(e) }),
            );
          }, 100);
        });
        break;
      }
      case 'array': {
        job = compute.for([1, 2, 3, 4], (x) => {
          progress(1);
          return x * 2;
        });
        break;
      }
      case 'slow': {
        const n = Number(process.env.SLICES || 6);
        job = compute.for(
          Array.from({ length: n }, (_, i) => i + 1),
          async (x, ms) => {
            progress(0);
            await new Promise((r) => setTimeout(r, ms));
            progress(1);
            return x * x;
          },
          [Number(process.env.SLICE_MS || 2000)],
        );
        break;
      }
      default:
        throw new Error(`unknown mode ${mode}`);
    }
    job.on('accepted', () => out({ accepted: job.id }));
    job.on('result', (ev) => out({ result: ev.sliceNumber }));
    try {
      const r = await job.exec(compute.marketRate);
      out({ done: Array.from(r).map((v) => (v instanceof Error ? { error: v.message } : v)) });
    } catch (error) {
      out({ failed: error.message, code: error.code });
    }
    process.exit(0);
  })
  .catch((e) => {
    out({ fatal: String(e?.stack || e) });
    process.exit(2);
  });
