import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ExplainPanel } from '@/components/jobs/explain-panel';
import { JobDetail } from '@/components/jobs/job-detail';
import { LiveStatus } from '@/components/live-status';
import { currentSession } from '@/server/auth';
import { jobPage } from '@/server/jobs/jobs.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Job' };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await currentSession();
  if (!session) redirect(`/signin?next=/jobs/${encodeURIComponent(id)}`);
  const portal = await getPortal();
  const page = await jobPage(portal, session.userId, id, new Date(portal.clock.now()));
  return (
    <>
      <p>
        <Link href="/jobs">← Jobs</Link>
      </p>
      <LiveStatus />
      <JobDetail id={id} initial={page.ok ? page.value : null} initialError={page.ok ? null : page.error} />
      {page.ok ? <ExplainPanel id={id} /> : null}
    </>
  );
}
