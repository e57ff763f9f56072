/*
 * A dcp-client 5.6.1 program for the escrow e2e (run as an unprivileged user with its own HOME and
 * keystores). Only the documented Compute API; prints `OUT {json}` lines. Mode = argv[2].
 */
const { init } = require(process.env.DCP_CLIENT_DIR);
const out = (o) => console.log(`OUT ${JSON.stringify(o)}`);
const mode = process.argv[2];

init()
  .then(async () => {
    const compute = require('dcp/compute');
    let job;
    if (mode === 'array') {
      job = compute.for([1, 2, 3, 4], (x) => {
        progress(1);
        return x * 2;
      });
    } else if (mode === 'range') {
      job = compute.for(1, 6, (x) => {
        progress(1);
        return x + 1;
      });
    } else if (mode === 'slow') {
      job = compute.for(
        Array.from({ length: 8 }, (_, i) => i + 1),
        async (x) => {
          progress(0);
          await new Promise((r) => setTimeout(r, 700));
          progress(1);
          return x;
        },
      );
      let cancelled = process.env.NO_CANCEL === '1';
      job.on('result', async (ev) => {
        out({ result: ev.sliceNumber });
        if (cancelled) return;
        cancelled = true;
        out({ job: job.id });
        await job.cancel('enough');
      });
    } else throw new Error(`unknown mode ${mode}`);
    job.public.name = `escrow e2e ${mode}`;
    try {
      const results = await job.exec();
      out({ job: job.id, results: Array.from(results) });
    } catch (e) {
      out({ job: job.id, error: e.message, code: e.code });
    }
    process.exit(0);
  })
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
