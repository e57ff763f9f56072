import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { WorkerPanel } from '@/browser-worker/worker-panel';
import { currentSession } from '@/server/auth';
import { listKeystores } from '@/server/keystores/keystores.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Browser worker' };

/** The browser worker: compute slices in this page and earn into one of your bank accounts. */
export default async function WorkerPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/worker');
  const portal = await getPortal();
  const accounts = (await listKeystores(portal, session.userId))
    .filter((k) => k.kind === 'bank' && k.provenAt !== null)
    .map((k) => ({ address: k.address, label: k.label }));
  return (
    <>
      <h1>Browser worker</h1>
      <p className="lead">
        Lend this browser tab to the network: it asks the scheduler for slices, computes them in Web Workers
        and earns DCC into the bank account you choose. A fresh worker identity is made in this page for each
        start; its key never leaves the tab.
      </p>
      {accounts.length === 0 ? (
        <section className="card empty" data-testid="worker-no-accounts">
          <strong>No bank account yet.</strong>
          <p>
            Earnings go to a bank account. <Link href="/keystores">Create one on the keystores page</Link>,
            then come back.
          </p>
        </section>
      ) : (
        <WorkerPanel schedulerUrl={portal.config.schedulerUrl.href} accounts={accounts} />
      )}
    </>
  );
}
