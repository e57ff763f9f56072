module.exports = async function globalTeardown() {
  await globalThis.__DCP_EMU__?.stop();
};
