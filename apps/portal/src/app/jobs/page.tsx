import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { FaultsPanel } from '@/components/faults/faults-panel';
import { JobsList } from '@/components/jobs/jobs-list';
import { LiveStatus } from '@/components/live-status';
import { currentSession } from '@/server/auth';
import { listFaults } from '@/server/faults/faults.usecase';
import { listJobs } from '@/server/jobs/jobs.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Jobs' };

export default async function JobsPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/jobs');
  const portal = await getPortal();
  const [jobs, faults] = await Promise.all([
    listJobs(portal, session.userId),
    listFaults(portal, session.userId),
  ]);
  return (
    <>
      <h1>Jobs</h1>
      <p className="lead">Jobs deployed with your identity or paid from your bank accounts.</p>
      <LiveStatus />
      <JobsList initial={jobs.ok ? jobs.value : []} initialError={jobs.ok ? null : jobs.error} />
      <FaultsPanel initial={faults.ok ? faults.value : []} initialError={faults.ok ? null : faults.error} />
    </>
  );
}
