'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { api, sentence } from '../lib/api';

export function SignOutButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  async function signOut() {
    setBusy(true);
    const result = await api('/api/auth/signout', { method: 'POST' });
    setBusy(false);
    if (!result.ok) {
      setFailed(sentence(result.error.message));
      return;
    }
    router.replace('/signin');
    router.refresh();
  }
  return (
    <>
      <button type="button" className="secondary" onClick={signOut} disabled={busy}>
        {busy ? 'Signing out…' : 'Sign out'}
      </button>
      {failed ? (
        <span role="alert" className="field-error">
          {failed}
        </span>
      ) : null}
    </>
  );
}
