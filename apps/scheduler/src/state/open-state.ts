import type { DatabaseLocation, PrismaDb } from '@dcp-emu/db';
import type { Logger } from '@dcp-emu/protocol/node';
import { ComputeGroupRepository } from '../store/compute-groups.repository';
import { PackageRepository } from '../store/package.repository';
import { JobStore, type LeaseTerms } from './job-store';
import { Journal } from './journal';
import { openJournalDb } from './sql-journal';

/** The scheduler's state over one database: the hot job store (with its journal) and the cold repositories. */
export interface SchedulerState {
  store: JobStore;
  groups: ComputeGroupRepository;
  packages: PackageRepository;
}

/** Opens the journal's own connection to the database (`location`, as opened for Prisma) next to Prisma's. */
export async function openSchedulerState(opts: {
  prisma: PrismaDb;
  location: DatabaseLocation;
  logger: Logger;
  leases: LeaseTerms;
}): Promise<SchedulerState> {
  const journal = new Journal(await openJournalDb(opts.location), opts.logger);
  return {
    store: new JobStore(opts.prisma, journal, opts.leases),
    groups: new ComputeGroupRepository(opts.prisma),
    packages: new PackageRepository(opts.prisma),
  };
}
