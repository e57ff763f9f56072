import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { KeystoreManager } from '@/components/keystore-manager';
import { currentSession } from '@/server/auth';
import { listKeystores } from '@/server/keystores/keystores.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Keystores' };

export default async function KeystoresPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/keystores');
  const keystores = await listKeystores(await getPortal(), session.userId);
  return (
    <>
      <h1>Keystores</h1>
      <p className="lead">
        Identities sign what you send to the scheduler; bank accounts pay for the jobs you deploy. Everything
        here is encrypted with a passphrase only you know.
      </p>
      <KeystoreManager
        initial={keystores.map((k) => ({
          ...k,
          createdAt: k.createdAt.toISOString(),
          provenAt: k.provenAt?.toISOString() ?? null,
        }))}
      />
    </>
  );
}
