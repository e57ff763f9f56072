const { startEmulator } = require('dcp-emu');

/** One throw-away dcp-emu stack for the whole jest run; its environment reaches every test file. */
module.exports = async function globalSetup() {
  const emu = await startEmulator({ workers: 2, serviceEnv: { DCP_EMU_MAX_LEASE_MS: '300000' } });
  globalThis.__DCP_EMU__ = emu;
  // DCP_SCHEDULER_LOCATION, DCP_RESOURCE_DIR, DCP_HOMEDIR, DCP_EMU_DATA_DIR (attachEmulator() finds it)
  Object.assign(process.env, emu.env);
  process.env.DCP_EMU_TIME_ROUTES = (await emu.clock.available()) ? '1' : '0';
};
