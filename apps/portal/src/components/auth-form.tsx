'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, useRef, useState } from 'react';
import { type ApiError, api, safeNextPath, sentence } from '../lib/api';
import { Field } from './field';

interface AuthFormProps {
  mode: 'signin' | 'signup';
  next?: string | undefined;
}

/** Sign-in and sign-up form. On success the session cookie is set and the user moves on. */
export function AuthForm({ mode, next }: AuthFormProps) {
  const router = useRouter();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const alertRef = useRef<HTMLDivElement>(null);
  const signup = mode === 'signup';

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    if (signup && password !== String(form.get('confirm') ?? '')) {
      setError({
        code: 'EINVAL',
        message: 'the two passwords differ; type the same password twice',
        field: 'confirm',
      });
      return;
    }
    setBusy(true);
    setError(null);
    const result = await api<{ user: { email: string } }>(signup ? '/api/auth/signup' : '/api/auth/signin', {
      body: { email, password },
    });
    if (!result.ok) {
      setBusy(false);
      setError(result.error);
      requestAnimationFrame(() => alertRef.current?.focus());
      return;
    }
    router.replace(safeNextPath(next));
    router.refresh();
  }

  const fieldError = (name: string) => (error?.field === name ? sentence(error.message) : undefined);
  return (
    <form onSubmit={submit} noValidate aria-describedby={error ? 'auth-error' : undefined}>
      {error ? (
        <div className="alert error" role="alert" id="auth-error" tabIndex={-1} ref={alertRef}>
          <p>
            <strong>{signup ? 'Could not create the account.' : 'Could not sign in.'}</strong>{' '}
            {sentence(error.message)}
          </p>
          {error.code === 'EDUP' ? (
            <p>
              <Link href="/signin">Sign in to that account</Link>
            </p>
          ) : null}
        </div>
      ) : null}
      <Field
        id="email"
        label="Email"
        type="email"
        autoComplete="email"
        required
        error={fieldError('email')}
      />
      <Field
        id="password"
        label="Password"
        type="password"
        autoComplete={signup ? 'new-password' : 'current-password'}
        required
        minLength={signup ? 10 : undefined}
        hint={signup ? 'At least 10 characters.' : undefined}
        error={fieldError('password')}
      />
      {signup ? (
        <Field
          id="confirm"
          label="Repeat the password"
          type="password"
          autoComplete="new-password"
          required
          error={fieldError('confirm')}
        />
      ) : null}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? (signup ? 'Creating account…' : 'Signing in…') : signup ? 'Create account' : 'Sign in'}
        </button>
        {signup ? (
          <span>
            Already have an account? <Link href="/signin">Sign in</Link>
          </span>
        ) : (
          <span>
            New here? <Link href="/signup">Create an account</Link>
          </span>
        )}
      </div>
    </form>
  );
}
