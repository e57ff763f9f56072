/*
 * A dcp-client program for the load and durability e2e tests, run as the peer user with its own HOME:
 * the unmodified dcp-client at DCP_CLIENT_DIR deploys one range job `compute.for(1, SLICES, fn)` of
 * trivial slices (`x => { progress(); return x; }`) and checks what comes back itself (printing 20,000
 * result lines would be the test's bottleneck). Prints `OUT {json}`: accepted, progress every
 * PROGRESS_EVERY distinct results, then done (or failed/fatal).
 */
const { init } = require(process.env.DCP_CLIENT_DIR);

const slices = Number(process.env.SLICES || 1000);
const every = Number(process.env.PROGRESS_EVERY || 1000);
const out = (o) => console.log(`OUT ${JSON.stringify(o)}`);

init()
  .then(async () => {
    const compute = require('dcp/compute');
    const job = compute.for(1, slices, (x) => {
      progress();
      return x;
    });
    const seen = new Set();
    let duplicates = 0;
    let wrong = 0;
    const wrongSamples = [];
    let outOfRange = 0;
    job.on('accepted', () => out({ accepted: job.id }));
    job.on('result', (ev) => {
      const n = ev.sliceNumber;
      if (!Number.isInteger(n) || n < 1 || n > slices) outOfRange++;
      if (seen.has(n)) duplicates++;
      else seen.add(n);
      if (ev.result !== n) {
        wrong++;
        if (wrongSamples.length < 5)
          wrongSamples.push({
            sliceNumber: n,
            type: typeof ev.result,
            value: String(ev.result).slice(0, 200),
          });
      }
      if (seen.size % every === 0) out({ progress: seen.size });
    });
    try {
      const results = Array.from(await job.exec(compute.marketRate));
      let mismatched = 0;
      for (let i = 0; i < results.length; i++) if (results[i] !== i + 1) mismatched++;
      out({
        done: {
          job: job.id,
          slices,
          results: results.length,
          resultEvents: seen.size,
          duplicates,
          wrong,
          wrongSamples,
          outOfRange,
          mismatched,
        },
      });
    } catch (error) {
      out({ failed: error.message, code: error.code });
    }
    process.exit(0);
  })
  .catch((e) => {
    out({ fatal: String(e?.stack || e) });
    process.exit(2);
  });
