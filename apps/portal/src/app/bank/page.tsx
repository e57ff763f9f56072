import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { AccountsPanel } from '@/components/bank/accounts-panel';
import { BridgePanel, TransferForm } from '@/components/bank/signed-forms';
import { LiveStatus } from '@/components/live-status';
import { currentSession } from '@/server/auth';
import { listAccounts } from '@/server/bank/bank.usecase';
import { listKeystores } from '@/server/keystores/keystores.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Bank' };

export default async function BankPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/bank');
  const portal = await getPortal();
  const [accounts, keystores] = await Promise.all([
    listAccounts(portal, session.userId),
    listKeystores(portal, session.userId),
  ]);
  const banks = keystores
    .filter((k) => k.kind === 'bank' && k.provenAt !== null)
    .map((k) => ({ id: k.id, label: k.label, address: k.address.toLowerCase() }));
  return (
    <>
      <h1>Bank</h1>
      <p className="lead">
        Your DCC: the bank accounts that pay for your jobs and receive your workers’ earnings. Balances update
        as jobs run.
      </p>
      <LiveStatus />
      <AccountsPanel
        initial={accounts.ok ? accounts.value : []}
        initialError={accounts.ok ? null : accounts.error}
      />
      <div className="grid-2">
        <TransferForm accounts={banks} />
        <BridgePanel accounts={banks} />
      </div>
    </>
  );
}
