import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { AuthForm } from '@/components/auth-form';
import { currentSession } from '@/server/auth';

export const metadata: Metadata = { title: 'Create an account' };

export default async function SignUpPage() {
  if (await currentSession()) redirect('/keystores');
  return (
    <div className="narrow">
      <h1>Create an account</h1>
      <p className="lead">
        Your keystores are kept per account; nobody else signed in to this portal can see them.
      </p>
      <div className="card">
        <AuthForm mode="signup" />
      </div>
    </div>
  );
}
