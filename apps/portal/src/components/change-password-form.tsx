'use client';

import { type FormEvent, useState } from 'react';
import { type ApiError, api, sentence } from '../lib/api';
import { Field } from './field';

export function ChangePasswordForm() {
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const currentPassword = String(form.get('currentPassword') ?? '');
    const newPassword = String(form.get('newPassword') ?? '');
    setDone(null);
    if (newPassword !== String(form.get('confirmPassword') ?? '')) {
      setError({
        code: 'EINVAL',
        message: 'the two new passwords differ; type the same one twice',
        field: 'confirmPassword',
      });
      return;
    }
    setBusy(true);
    setError(null);
    const result = await api<{ endedSessions: number }>('/api/auth/password', {
      body: { currentPassword, newPassword },
    });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    formEl.reset();
    const n = result.data.endedSessions;
    setDone(`Password changed.${n ? ` ${n} other session${n === 1 ? ' was' : 's were'} signed out.` : ''}`);
  }

  const fieldError = (name: string) => (error?.field === name ? sentence(error.message) : undefined);
  return (
    <form onSubmit={submit} noValidate>
      <div aria-live="polite">
        {done ? <p className="alert success">{done}</p> : null}
        {error && !error.field ? (
          <p className="alert error" role="alert">
            {sentence(error.message)}
          </p>
        ) : null}
      </div>
      <Field
        id="currentPassword"
        label="Current password"
        type="password"
        autoComplete="current-password"
        required
        error={fieldError('currentPassword')}
      />
      <Field
        id="newPassword"
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint="At least 10 characters. Your other sessions will be signed out."
        error={fieldError('newPassword')}
      />
      <Field
        id="confirmPassword"
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        required
        error={fieldError('confirmPassword')}
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}
