import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { AuthForm } from '@/components/auth-form';
import { safeNextPath } from '@/lib/api';
import { currentSession } from '@/server/auth';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string | string[] }>;
}) {
  const next = (await searchParams).next;
  const target = safeNextPath(typeof next === 'string' ? next : undefined);
  if (await currentSession()) redirect(target);
  return (
    <div className="narrow">
      <h1>Sign in</h1>
      <div className="card">
        <AuthForm mode="signin" next={target} />
      </div>
    </div>
  );
}
