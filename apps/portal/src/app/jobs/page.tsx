import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { JobsList } from '@/components/jobs/jobs-list';
import { LiveStatus } from '@/components/live-status';
import { currentSession } from '@/server/auth';
import { listJobs } from '@/server/jobs/jobs.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Jobs' };

export default async function JobsPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/jobs');
  const jobs = await listJobs(await getPortal(), session.userId);
  return (
    <>
      <h1>Jobs</h1>
      <p className="lead">Jobs deployed with your identity or paid from your bank accounts.</p>
      <LiveStatus />
      <JobsList initial={jobs.ok ? jobs.value : []} initialError={jobs.ok ? null : jobs.error} />
    </>
  );
}
