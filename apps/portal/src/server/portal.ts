import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type Database,
  MIGRATIONS_ROOT,
  migrate,
  openDatabase,
  openDriver,
  parseDatabaseUrl,
  readMigrations,
} from '@dcp-emu/db';
import { type PasswordHasher, scryptHasher } from './accounts/password';
import { memoryThrottle, type SignInThrottle } from './accounts/throttle';
import { loadPortalConfig, type PortalConfig } from './config';
import {
  type Clock,
  type GroupStore,
  type Ids,
  type KeyChallengeStore,
  type KeystoreStore,
  type SessionStore,
  systemClock,
  type UserStore,
} from './ports';
import { memoryKeyChallenges } from './keystores/key-challenges';
import { prismaGroupStore, prismaKeystoreStore, prismaSessionStore, prismaUserStore } from './stores';
import { type BankApi, bankApi } from './upstream/bank';
import { type SchedulerApi, schedulerApi } from './upstream/scheduler';
import { httpUpstream } from './upstream/upstream';

/** Everything the route handlers and server components need, built once per process. */
export interface Portal {
  config: PortalConfig;
  db: Database;
  users: UserStore;
  sessions: SessionStore;
  keystores: KeystoreStore;
  /** outstanding key challenges (in memory): a keystore grants only once its key signed one */
  challenges: KeyChallengeStore;
  groups: GroupStore;
  /** the scheduler's REST API (jobs, slices, workers, compute groups) */
  scheduler: SchedulerApi;
  /** the bank's REST API (accounts, history, faucet, transfers, job trails, chain bridge) */
  bank: BankApi;
  hasher: PasswordHasher;
  throttle: SignInThrottle;
  clock: Clock;
  ids: Ids;
  /** true when the database answers a trivial query */
  ready(): Promise<{ ok: true } | { ok: false; reason: string }>;
  close(): Promise<void>;
}

/**
 * The committed migrations. Inside a Next.js server bundle `@dcp-emu/db`'s own `__dirname`-based
 * path does not point at the repository, so look upward from the working directory as well.
 */
export function findMigrationsRoot(start: string = process.cwd()): string {
  if (existsSync(MIGRATIONS_ROOT)) return MIGRATIONS_ROOT;
  for (let dir = resolve(/*turbopackIgnore: true*/ start); ; dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no prisma/migrations folder above ${start}`);
  }
}

export async function createPortal(config: PortalConfig = loadPortalConfig()): Promise<Portal> {
  const url = config.databaseUrl;
  const location = parseDatabaseUrl(url, config.dataDir);
  const driver = await openDriver(location);
  try {
    await migrate(driver, readMigrations(location.provider, findMigrationsRoot()));
  } finally {
    await driver.close();
  }
  const db = await openDatabase({ url, dataDir: config.dataDir, migrate: false });
  return {
    config,
    db,
    users: prismaUserStore(db.prisma),
    sessions: prismaSessionStore(db.prisma),
    keystores: prismaKeystoreStore(db.prisma),
    challenges: memoryKeyChallenges(),
    groups: prismaGroupStore(db.prisma),
    scheduler: schedulerApi(
      httpUpstream('scheduler', config.schedulerUrl, { adminToken: config.adminToken }),
    ),
    bank: bankApi(httpUpstream('bank', config.bankUrl, { adminToken: config.adminToken })),
    hasher: scryptHasher({ log2N: config.passwordScryptLog2N, r: 8, p: 1 }),
    throttle: memoryThrottle(),
    clock: systemClock,
    ids: { next: randomUUID },
    async ready() {
      try {
        await db.prisma.$queryRawUnsafe('SELECT 1');
        return { ok: true };
      } catch (e) {
        return { ok: false, reason: e instanceof Error ? e.message : String(e) };
      }
    },
    close: () => db.close(),
  };
}

const holder = globalThis as typeof globalThis & { __dcpEmuPortal?: Promise<Portal> };

/** The process-wide portal (kept on globalThis so dev-server reloads reuse one database connection). */
export function getPortal(): Promise<Portal> {
  if (!holder.__dcpEmuPortal) {
    holder.__dcpEmuPortal = createPortal().catch((e) => {
      holder.__dcpEmuPortal = undefined;
      throw e;
    });
  }
  return holder.__dcpEmuPortal;
}

/** Closes and forgets the process-wide portal (tests, shutdown). */
export async function resetPortal(): Promise<void> {
  const current = holder.__dcpEmuPortal;
  holder.__dcpEmuPortal = undefined;
  if (current) await (await current).close().catch(() => undefined);
}
