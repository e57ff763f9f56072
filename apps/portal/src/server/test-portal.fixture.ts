import { freshDatabase, type TestDatabase, type TestProvider } from '@dcp-emu/testing';
import { loadPortalConfig } from './config';
import { createPortal, type Portal } from './portal';

declare module 'vitest' {
  /** Provided by packages/testing's global setup: the run's PostgreSQL admin URL. */
  export interface ProvidedContext {
    pgUrl: string;
  }
}

/** A portal over a fresh database of the given provider, with cheap password hashing; for specs. */
export async function testPortal(
  provider: TestProvider,
  pgUrl?: string,
  env: Record<string, string> = {},
): Promise<{ portal: Portal; dispose(): Promise<void> }> {
  const db: TestDatabase = await freshDatabase(provider, pgUrl);
  const portal = await createPortal(
    loadPortalConfig({
      DCP_EMU_DATA_DIR: '/nonexistent',
      DCP_EMU_DATABASE_URL: db.url,
      DCP_EMU_PORTAL_PASSWORD_LOG2N: '10',
      ...env,
    }),
  );
  return {
    portal,
    async dispose() {
      await portal.close();
      await db.drop();
    },
  };
}
