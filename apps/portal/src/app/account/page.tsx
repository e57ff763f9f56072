import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { ChangePasswordForm } from '@/components/change-password-form';
import { currentSession } from '@/server/auth';

export const metadata: Metadata = { title: 'Account' };

export default async function AccountPage() {
  const session = await currentSession();
  if (!session) redirect('/signin?next=/account');
  return (
    <>
      <h1>Account</h1>
      <div className="grid-2">
        <section className="card" aria-labelledby="who-heading">
          <h2 id="who-heading">Signed in</h2>
          <p>
            Email: <strong>{session.email}</strong>
          </p>
          <p className="hint">
            This session ends on{' '}
            <time dateTime={session.expiresAt.toISOString()}>{session.expiresAt.toUTCString()}</time>.
          </p>
        </section>
        <section className="card" aria-labelledby="password-heading">
          <h2 id="password-heading">Change password</h2>
          <ChangePasswordForm />
        </section>
      </div>
    </>
  );
}
