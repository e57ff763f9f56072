import { defineConfig } from 'vitest/config';

// the emulator starts in seconds, jobs take a few more: generous limits, a busy machine is slower, never failed
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
