/*
 * A dcp-client program for the modules e2e (modules.e2e.ts), run as the peer user: jobs that
 * `require()` packages published with dcp-util's `publish package`. Only the documented Compute API
 * of the unmodified dcp-client given by DCP_CLIENT_DIR. Prints `OUT {json}` lines. Mode = argv[2]:
 *   use      CommonJS and BravoJS modules, nested relative requires, a module requiring another package
 *   local    the same job with job.localExec(): dcp-client's own sandbox (BravoJS) loads the modules
 *   broken   a module that does not load (SyntaxError): the client must get an `error` event
 *   missing  a module nobody published: the client must get an `error` event
 * For broken/missing the job is cancelled once the error event arrived (or after ERROR_WAIT_MS).
 */
const { init } = require(process.env.DCP_CLIENT_DIR);
const out = (o) => console.log(`OUT ${JSON.stringify(o)}`);
const mode = process.argv[2];

init()
  .then(async () => {
    const compute = require('dcp/compute');
    let job;
    if (mode === 'local') await require('dcp/identity').login(); // 5.6.1's local supervisor signs with it
    if (mode === 'use' || mode === 'local') {
      job = compute.for([1, 2, 3], (x) => {
        progress(1);
        const { square } = require('dcp-emu-cjs/square');
        const { cube } = require('dcp-emu-bravo/cube');
        return { square: square(x), cube: cube(x) };
      });
      job.requires(['dcp-emu-cjs/square', 'dcp-emu-bravo/cube']);
    } else {
      const id = mode === 'broken' ? 'dcp-emu-broken/bad' : 'dcp-emu-nowhere/nothing';
      job = compute.for(
        [1, 2],
        (x, id) => {
          progress(1);
          return require(id).f(x);
        },
        [id],
      );
      job.requires(id);
    }
    job.on('accepted', () => out({ accepted: job.id }));
    let cancelling = false;
    const cancel = (why) => {
      if (cancelling) return;
      cancelling = true;
      job.cancel(why).catch((e) => out({ cancelFailed: String(e?.message ?? e) }));
    };
    job.on('error', (ev) => {
      out({ errorEvent: { message: String(ev.message), code: ev.code, slice: ev.sliceNumber } });
      if (mode === 'broken' || mode === 'missing') cancel('module error seen');
    });
    if (mode === 'broken' || mode === 'missing')
      job.on('accepted', () =>
        setTimeout(() => cancel('no error event'), Number(process.env.ERROR_WAIT_MS || 60000)).unref(),
      );
    try {
      const r = mode === 'local' ? await job.localExec(1) : await job.exec(compute.marketRate);
      out({ done: Array.from(r).map((v) => (v instanceof Error ? { error: v.message } : v)) });
    } catch (error) {
      out({ failed: String(error?.message ?? error), code: error?.code });
    }
  })
  .catch((e) => {
    out({ fatal: String(e?.stack || e) });
    process.exit(2);
  });
