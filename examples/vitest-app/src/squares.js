/**
 * A tiny DCP app: squares numbers on DCP with dcp-client 5.6.1. It knows nothing of dcp-emu: it
 * uses whatever scheduler DCP_SCHEDULER_LOCATION names, with the keystores in DCP_RESOURCE_DIR.
 */
let ready;

function initDcp() {
  ready ??= require('dcp-client').init();
  return ready;
}

/**
 * Squares `numbers` on DCP, one slice per number; each slice works for `sliceMs` (default 0).
 * `onEvent(name, data)` sees the job's events. Resolves to the squares in order.
 */
async function squares(numbers, { sliceMs = 0, onEvent } = {}) {
  await initDcp();
  const compute = require('dcp/compute');
  const job = compute.for(
    numbers,
    (n, ms) => {
      const end = Date.now() + ms;
      do progress();
      while (Date.now() < end);
      return n * n;
    },
    [sliceMs],
  );
  job.public.name = 'squares (a dcp-emu example)';
  if (onEvent)
    for (const name of ['accepted', 'result', 'nofunds', 'cancel']) job.on(name, (e) => onEvent(name, e));
  const results = await job.exec(compute.marketRate);
  return Array.from(results);
}

module.exports = { initDcp, squares };
