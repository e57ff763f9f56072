import type { SchedulerAnswer } from '@dcp-emu/contracts';
import { getDefaultCrypto, toChecksumAddress } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import { jobStatusReport } from '../pheme/job-report.usecase';

export interface ListJobsQuery {
  owner?: string | undefined;
  /** comma-separated addresses: jobs deployed by or paid from any of them (any spelling) */
  account?: string | undefined;
  /** comma-separated statuses */
  status?: string | undefined;
  limit: number;
  offset: number;
}

/** Whose jobs the caller may list: all of them, or those deployed by or paid from one address. */
export type ReaderScope = { all: true } | { all: false; address: string };

/** `GET /api/jobs`: a page of jobs, newest first, and how many match. */
export class ListJobs {
  constructor(private readonly ctx: SchedulerContext) {}

  async execute(q: ListJobsQuery, scope: ReaderScope): Promise<SchedulerAnswer<'JobList'>> {
    const status = q.status?.split(',');
    const spellings = (a: string) => [a, a.toLowerCase(), toChecksumAddress(getDefaultCrypto(), a)];
    let accounts = q.account
      ?.split(',')
      .filter((a) => /^0x[0-9a-fA-F]{40}$/.test(a))
      .flatMap(spellings);
    if (!scope.all) {
      // beyond loopback a signer lists its own jobs only (deployed by or paid from its address)
      const mine = new Set(spellings(scope.address));
      accounts = accounts ? accounts.filter((a) => mine.has(a)) : [...mine];
      if (accounts.length === 0) accounts = ['0x'];
    }
    const filter = { owner: q.owner, status, ...(accounts ? { accounts: [...new Set(accounts)] } : {}) };
    const jobs = await this.ctx.store.listJobs({ ...filter, limit: q.limit, offset: q.offset });
    return {
      jobs: jobs.map((j) => jobStatusReport(j)),
      total: await this.ctx.store.countJobs(filter),
    };
  }
}
