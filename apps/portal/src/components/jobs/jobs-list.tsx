'use client';

import Link from 'next/link';
import type { ApiError } from '../../lib/api';
import { useLive } from '../../lib/live';
import { ErrorNotice } from '../error-notice';
import { Progress, StatusBadge } from './progress';

export interface JobRow {
  id: string;
  name?: string;
  status: string;
  totalSlices: number;
  completedSlices: number;
  deployTime: string;
}

/** The user's jobs, updated live. */
export function JobsList({ initial, initialError }: { initial: JobRow[]; initialError: ApiError | null }) {
  const { data: jobs, error } = useLive<JobRow[]>('jobs', initial, initialError);
  return (
    <section className="card" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Your jobs</h2>
      {error ? <ErrorNotice error={error} what="your jobs" /> : null}
      {jobs.length === 0 ? (
        <div className="empty" data-testid="jobs-empty">
          <strong>No jobs yet</strong>
          <p>
            Deploy one with dcp-client using the keystores you downloaded (put <code>id.keystore</code> and{' '}
            <code>default.keystore</code> in <code>~/.dcp</code>), for example:
          </p>
          <pre>{`const compute = require('dcp/compute');
const job = compute.for([1, 2, 3], (x) => { progress(); return x * 2; });
await job.exec();`}</pre>
        </div>
      ) : (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Your jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Deployed</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-testid="job-row" data-job={j.id} data-status={j.status}>
                  <td>
                    <Link href={`/jobs/${encodeURIComponent(j.id)}`}>{j.name || 'Unnamed job'}</Link>
                    <div className="mono hint">{j.id}</div>
                  </td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td>
                    <Progress
                      done={j.completedSlices}
                      total={j.totalSlices}
                      label={`Progress of ${j.name || j.id}`}
                    />
                  </td>
                  <td>
                    <time dateTime={j.deployTime}>{new Date(j.deployTime).toLocaleString()}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
