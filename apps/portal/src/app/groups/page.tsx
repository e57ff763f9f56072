import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { GroupsManager } from '@/components/groups/groups-manager';
import { LiveStatus } from '@/components/live-status';
import { currentSession } from '@/server/auth';
import { listGroups } from '@/server/groups/groups.usecase';
import { listKeystores } from '@/server/keystores/keystores.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Compute groups' };

export default async function GroupsPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/groups');
  const portal = await getPortal();
  const [groups, keystores] = await Promise.all([
    listGroups(portal, session.userId),
    listKeystores(portal, session.userId),
  ]);
  const addresses = keystores
    .filter((k) => k.provenAt !== null)
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'bank' ? -1 : 1))
    .map((k) => ({ address: k.address.toLowerCase(), label: k.label }));
  return (
    <>
      <h1>Compute groups</h1>
      <p className="lead">
        Private groups of workers: a job deployed into a group is computed only by workers that joined it with
        its secret.
      </p>
      <LiveStatus />
      <GroupsManager
        initial={groups.ok ? groups.value : []}
        initialError={groups.ok ? null : groups.error}
        addresses={addresses}
        schedulerUrl={portal.config.schedulerUrl.href}
      />
    </>
  );
}
