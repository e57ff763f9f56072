import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { LiveStatus } from '@/components/live-status';
import { WorkersView } from '@/components/workers/workers-view';
import { currentSession } from '@/server/auth';
import { getPortal } from '@/server/portal';
import { workersPage } from '@/server/workers/workers.usecase';

export const metadata: Metadata = { title: 'Workers' };

export default async function WorkersPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/workers');
  const portal = await getPortal();
  const page = await workersPage(portal, session.userId);
  return (
    <>
      <h1>Workers</h1>
      <p className="lead">The workers computing on this network, and what yours earned.</p>
      <LiveStatus />
      <WorkersView
        initial={page.ok ? page.value : { workers: [], earnings: [] }}
        initialError={page.ok ? null : page.error}
        schedulerUrl={portal.config.schedulerUrl.href}
      />
    </>
  );
}
