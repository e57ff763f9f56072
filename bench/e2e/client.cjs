/*
 * The bench's dcp-client program: the unmodified dcp-client 5.6.1 (the repository's node_modules),
 * run by `dcp-emu run` with the stack's environment (DCP_SCHEDULER_LOCATION, DCP_RESOURCE_DIR, …).
 * One job of SLICES trivial slices, `range` (compute.for(1, N, fn)) or `array` input (compute.for([…], fn));
 * prints `BENCH {json}` lines: accepted, progress every PROGRESS_EVERY results, and the final figures
 * (timestamps in ms since the epoch, so the parent can relate them to its /proc samples).
 */
const { init } = require('dcp-client');

const slices = Number(process.env.SLICES || 1000);
const input = process.env.INPUT === 'array' ? 'array' : 'range';
const every = Number(process.env.PROGRESS_EVERY || 1000);
const out = (o) => process.stdout.write(`BENCH ${JSON.stringify(o)}\n`);

init()
  .then(async () => {
    const compute = require('dcp/compute');
    const fn = (x) => {
      progress();
      return x;
    };
    const job =
      input === 'range'
        ? compute.for(1, slices, fn)
        : compute.for(
            Array.from({ length: slices }, (_, i) => i + 1),
            fn,
          );
    job.public.name = `dcp-emu bench-e2e ${slices} ${input}`;
    const t = { start: Date.now() };
    const seen = new Set();
    let duplicates = 0;
    let wrong = 0;
    job.on('accepted', () => {
      t.accepted = Date.now();
      out({ accepted: job.id, at: t.accepted });
    });
    job.on('result', (ev) => {
      const now = Date.now();
      if (t.first === undefined) out({ first: now, start: t.start });
      t.first ??= now;
      t.last = now;
      if (seen.has(ev.sliceNumber)) duplicates++;
      else seen.add(ev.sliceNumber);
      if (ev.result !== ev.sliceNumber) wrong++;
      if (seen.size % every === 0) out({ progress: seen.size, at: now });
    });
    const results = await job.exec(compute.marketRate);
    t.done = Date.now();
    const values = Array.from(results);
    let mismatched = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== i + 1) mismatched++;
    out({
      done: {
        job: job.id,
        slices,
        input,
        results: values.length,
        resultEvents: seen.size,
        duplicates,
        wrong,
        mismatched,
        ...t,
        cpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage()),
        peakRssKb: process.resourceUsage().maxRSS,
      },
    });
    process.exit(0);
  })
  .catch((e) => {
    out({ fatal: String(e?.stack || e), code: e?.code });
    process.exit(2);
  });
