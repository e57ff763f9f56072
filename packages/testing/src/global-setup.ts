import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';
import { unprivileged } from './stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server this test run uses (started here unless DCP_EMU_TEST_PG_URL is set). */
    pgUrl: string;
  }
}

/** Runs once per `vitest run`: one PostgreSQL server for every DB test, stopped at the end. */
export default async function setup(project: TestProject): Promise<() => void> {
  // as root, peers run as nobody: make the checkout reachable for it now, or fail at once saying how
  unprivileged();
  const external = process.env.DCP_EMU_TEST_PG_URL;
  const server = external ? undefined : await startPostgres();
  project.provide('pgUrl', external ?? (server as { url: string }).url);
  return () => server?.stop();
}
