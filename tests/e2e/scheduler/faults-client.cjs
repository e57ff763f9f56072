/*
 * A dcp-client 5.6.1 program for the fault e2e tests: `node faults-client.cjs <slices> <sliceMs>` runs a job
 * squaring 1…slices (each slice busy for sliceMs) and prints `OUT {json}` lines, each with its time t: exec
 * (about to submit), accepted (the job id), each result event, done (the results) or error (code,
 * message). Unmodified dcp-client, documented Compute API only.
 */
const { init } = require('dcp-client');
const out = (o) => console.log(`OUT ${JSON.stringify({ t: Date.now(), ...o })}`);
const [slices, sliceMs] = process.argv.slice(2).map(Number);

init()
  .then(async () => {
    const compute = require('dcp/compute');
    const job = compute.for(
      Array.from({ length: slices }, (_, i) => i + 1),
      (n, ms) => {
        const end = Date.now() + ms;
        do progress();
        while (Date.now() < end);
        return n * n;
      },
      [sliceMs],
    );
    job.public.name = 'faults e2e';
    job.on('accepted', () => out({ accepted: job.id }));
    job.on('result', (ev) => out({ result: ev.sliceNumber, value: ev.result }));
    out({ exec: true }); // before the submit: the scheduler sees the job only after this
    const results = await job.exec(compute.marketRate);
    out({ done: Array.from(results) });
    process.exit(0);
  })
  .catch((error) => {
    out({ error: { code: error?.code, message: String(error?.message ?? error) } });
    process.exit(1);
  });
