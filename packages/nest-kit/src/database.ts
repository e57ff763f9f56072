import {
  type DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Database, openDatabase } from '@dcp-emu/db';
import { Readiness } from './health';

/** Injection token of the stack's `Database` (Prisma client + provider), migrated at start-up. */
export const DATABASE = Symbol('DATABASE');

class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Database) {}
  async onApplicationShutdown() {
    await this.db.close();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  /** Opens (and migrates) the database before the app starts; registers a readiness check. */
  static forRoot(opts: { url: string; dataDir: string }): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DATABASE,
          inject: [Readiness],
          useFactory: async (readiness: Readiness) => {
            const db = await openDatabase(opts);
            new Logger('Database').log({
              msg: 'database open',
              provider: db.provider,
              // the file, or the schema (never the server URL: it may carry a password)
              database:
                db.location.provider === 'sqlite' ? db.location.target : (db.location.schema ?? 'public'),
              migrationsApplied: db.migrations.applied,
              migrationsAlreadyApplied: db.migrations.alreadyApplied.length,
            });
            readiness.add('database', async () => {
              await db.prisma.$queryRawUnsafe('SELECT 1');
            });
            return db;
          },
        },
        DatabaseCloser,
      ],
      exports: [DATABASE],
    };
  }
}
